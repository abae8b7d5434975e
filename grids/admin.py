"""The area tree and workstations in the back office."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
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
from grids.services import (
    BoundariesRefused,
    export_boundaries,
    import_boundaries,
    read_feature_collection,
    sync_workstation_roles,
)


class BoundaryFileForm(forms.Form):
    file = forms.FileField(
        label=_("GeoJSON file"),
        help_text=_(
            "A FeatureCollection: one feature per area, named by properties.code (or the"
            " feature's id), its geometry a Polygon or MultiPolygon; properties.population"
            " is optional. All or nothing."
        ),
    )


class _BoundaryField(forms.JSONField):
    """An area without a boundary shows an empty box, not the JSON word ``null``."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


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
    fields = (
        "code",
        "name",
        "level",
        "parent",
        "community_kind",
        "position",
        "is_active",
        "population",
        "boundary",
        "path",
    )
    list_per_page = 100
    change_list_template = "admin/grids/area/change_list.html"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "boundary":
            kwargs["form_class"] = _BoundaryField
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    class Media:
        css = {"all": ["core/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(child_count=Count("children"))

    def changelist_view(self, request, extra_context=None):
        extra = {"may_import_boundaries": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context={**(extra_context or {}), **extra})

    def get_urls(self):
        own = [
            path(
                "boundaries/import/",
                self.admin_site.admin_view(self.import_boundaries_view),
                name="grids_area_import_boundaries",
            ),
            path(
                "boundaries/export/",
                self.admin_site.admin_view(self.export_boundaries_view),
                name="grids_area_export_boundaries",
            ),
        ]
        return own + super().get_urls()

    def import_boundaries_view(self, request):
        """Upload a FeatureCollection; every bad feature is listed and nothing is saved."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = BoundaryFileForm(request.POST or None, request.FILES or None)
        problems = []
        if request.method == "POST" and form.is_valid():
            try:
                collection = read_feature_collection(form.cleaned_data["file"].read())
                count = import_boundaries(collection, actor=request.user, ip=client_ip(request))
            except BoundariesRefused as exc:
                problems = exc.problems
            else:
                messages.success(
                    request, _("Boundaries of %(count)s areas imported.") % {"count": count}
                )
                return HttpResponseRedirect(reverse("admin:grids_area_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import area boundaries"),
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/grids/area/import_boundaries.html", context)

    def export_boundaries_view(self, request):
        """Every boundary as one GeoJSON FeatureCollection (the file the import reads)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        body = json.dumps(export_boundaries(Area.objects.all()), ensure_ascii=False)
        response = HttpResponse(body, content_type="application/geo+json; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="jinshao-boundaries.geojson"'
        return response

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
