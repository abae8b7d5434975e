"""The area tree and workstations in the back office."""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.admin import RefusalsAsMessages
from accounts.forms import for_request
from audit.request import client_ip
from core.spreadsheets import SpreadsheetAdmin
from grids.forms import WorkstationForm
from grids.models import Area, Workstation
from grids.resources import AreaResource, WorkstationResource
from grids.services import sync_workstation_roles


@admin.register(Area)
class AreaAdmin(SpreadsheetAdmin):
    """The tree: ordered by path, names indented by level, a link to each subtree."""

    resource_classes = [AreaResource]
    list_display = (
        "tree_name",
        "code",
        "level",
        "community_kind",
        "children_count",
        "subtree",
        "is_active",
    )
    list_display_links = ("tree_name",)
    list_filter = ("level", "community_kind", "is_active")
    search_fields = ("name", "code")
    ordering = ("path",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("path",)
    fields = ("code", "name", "level", "parent", "community_kind", "position", "is_active", "path")
    list_per_page = 100

    class Media:
        css = {"all": ["core/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(child_count=Count("children"))

    @admin.display(description=_("name"), ordering="path")
    def tree_name(self, obj: Area) -> str:
        return format_html(
            '<span class="area-tree level-{}">{}{}</span>',
            obj.level,
            "└ " if obj.level > 1 else "",
            obj.name,
        )

    @admin.display(description=_("children"), ordering="child_count")
    def children_count(self, obj: Area) -> int:
        return getattr(obj, "child_count", 0)  # annotated in get_queryset

    @admin.display(description=_("subtree"))
    def subtree(self, obj: Area) -> str:
        url = (
            reverse("admin:grids_area_changelist") + "?" + urlencode({"path__startswith": obj.path})
        )
        return format_html('<a href="{}">{}</a>', url, _("everything under it"))


@admin.register(Workstation)
class WorkstationAdmin(RefusalsAsMessages, SpreadsheetAdmin):
    """Workstations name existing, ordinary people; their roles come through the role service."""

    resource_classes = [WorkstationResource]
    form = WorkstationForm
    list_display = ("name", "grid", "commander", "grid_leader", "phone")
    search_fields = ("name", "grid__name", "commander__name", "grid_leader__name")
    list_filter = ("grid__parent",)
    autocomplete_fields = ("grid", "commander", "grid_leader", "deputy_commanders")
    list_select_related = ("grid", "commander", "grid_leader")

    def get_form(self, request, obj=None, **kwargs):
        return for_request(super().get_form(request, obj, **kwargs), request)

    def get_import_resource_kwargs(self, request, **kwargs):
        """Imports grant roles as the person importing, from their address."""
        kwargs = super().get_import_resource_kwargs(request, **kwargs)
        return {**kwargs, "actor": request.user, "ip": client_ip(request)}

    def save_related(self, request, form, formsets, change):
        """After the deputies are saved, grant the commander's and grid leader's roles."""
        super().save_related(request, form, formsets, change)
        sync_workstation_roles(form.instance, actor=request.user, ip=client_ip(request))
