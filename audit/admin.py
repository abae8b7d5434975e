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
