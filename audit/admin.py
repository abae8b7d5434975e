"""The audit log for the audit administrator: search and read, never change."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.selectors import has_role
from audit.labels import action_label, details_list
from audit.models import AuditRecord


class ActionFilter(admin.SimpleListFilter):
    """The actions found in the log, by their labels (the codes stay in the URL)."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        codes = AuditRecord.objects.order_by("action").values_list("action", flat=True).distinct()
        return sorted(((code, action_label(code)) for code in codes), key=lambda item: item[1])

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class ChainStateFilter(admin.SimpleListFilter):
    """Chained records, or those still waiting for the sequencer (待入链)."""

    title = _("chain state")
    parameter_name = "chained"

    def lookups(self, request, model_admin):
        return [("yes", _("Chained")), ("no", _("Awaiting chaining"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(sequence__isnull=self.value() == "no")
        return queryset


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "actor_name",
        "ip",
        "action_name",
        "object_repr",
        "success",
        "chain_state",
    )
    list_filter = ("success", ActionFilter, ChainStateFilter)
    search_fields = ("actor_name", "action", "object_repr", "object_id", "ip")
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = (
        "created_at",
        "actor_name",
        "ip",
        "action_name",
        "object_kind",
        "object_id",
        "object_repr",
        "success",
        "details_shown",
        "chain_state",
        "previous_digest",
        "digest",
        "entry_mac",
    )
    fields = readonly_fields

    @admin.display(description=_("chain state"), ordering="sequence")
    def chain_state(self, entry: AuditRecord) -> str:
        """ "No. N" once the sequencer chained it; "awaiting chaining" (待入链) before."""
        if entry.sequence is None:
            return str(_("Awaiting chaining"))
        return str(_("No. %(sequence)s") % {"sequence": entry.sequence})

    @admin.display(description=_("action"), ordering="action")
    def action_name(self, entry: AuditRecord) -> str:
        """The action's label in the reader's language (``audit.labels``)."""
        return action_label(entry.action)

    @admin.display(description=_("details"))
    def details_shown(self, entry: AuditRecord) -> str:
        """The details as labels and values (``audit.labels.details_list``), never as JSON."""
        return details_list(entry.details)

    @admin.display(description=_("object type"))
    def object_kind(self, entry: AuditRecord) -> str:
        """The model's name for ``object_type`` ("accounts.roleassignment" → 角色分配)."""
        from django.apps import apps

        try:
            return str(apps.get_model(entry.object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return entry.object_type

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
        """The records the list shows (same search and filters), as CSV, streamed.

        Columns: id, sequence (empty while pending), created_at, actor_name, ip,
        action, object_type, object_id, object_repr, success, details, digest
        (empty while pending), entry_mac (the writer's seal).
        """
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
            "sequence",
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
            "entry_mac",
        ]
        # A pending record (待入链) has no sequence or digest yet: empty cells.
        rows = (
            ["" if getattr(entry, c) is None else str(getattr(entry, c)) for c in columns]
            for entry in entries.iterator(chunk_size=2000)
        )
        return csv_response(Sheet("audit", columns, rows), "audit")
