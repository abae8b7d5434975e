"""The audit log for the audit administrator: search and read, never change."""

from django.contrib import admin

from accounts.choices import Role
from accounts.selectors import has_role
from audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_name", "ip", "action", "object_repr", "success")
    list_filter = ("success", "action")
    search_fields = ("actor_name", "action", "object_repr", "object_id", "ip")
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = (
        "created_at",
        "actor_name",
        "ip",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "success",
        "details",
        "previous_digest",
        "digest",
    )
    fields = readonly_fields

    def has_view_permission(self, request, obj=None):
        """The audit administrator (and superusers); nobody else reads the log."""
        user = request.user
        return user.is_active and (user.is_superuser or has_role(user, Role.AUDITADMIN))

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def get_urls(self):
        from django.urls import path

        view = self.admin_site.admin_view(self.export_view)
        return [path("export/", view, name="audit_auditrecord_export"), *super().get_urls()]

    def export_view(self, request):
        """The records the list shows (same search and filters), as CSV, streamed."""
        from django.core.exceptions import PermissionDenied

        from audit.request import client_ip
        from audit.services import record
        from core.exports import Sheet, csv_response

        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        entries = changelist.get_queryset(request).order_by("id")
        record("audit.export", actor=request.user, ip=client_ip(request), details=dict(request.GET))
        columns = [
            "id",
            "created_at",
            "actor_name",
            "ip",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "success",
            "details",
            "digest",
        ]
        rows = (
            [str(getattr(entry, c)) for c in columns] for entry in entries.iterator(chunk_size=2000)
        )
        return csv_response(Sheet("audit", columns, rows), "audit")
