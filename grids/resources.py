"""Spreadsheets of the area tree and workstations (import and export)."""

from django.utils.translation import gettext_lazy as _
from import_export import fields

from accounts.models import User
from core.spreadsheets import (
    ChoiceWidget,
    CodeListWidget,
    CodeWidget,
    SpreadsheetResource,
    active_field,
    code_field,
    name_field,
    order_field,
)
from grids.choices import AreaLevel, CommunityKind
from grids.models import Area, Workstation
from grids.services import sync_workstation_roles


class AreaResource(SpreadsheetResource):
    """One row per area; a parent's row must come before (or already exist)."""

    code = code_field()
    name = name_field()
    level = fields.Field(attribute="level", column_name=_("Level"), widget=ChoiceWidget(AreaLevel))
    parent = fields.Field(
        attribute="parent", column_name=_("Parent code"), widget=CodeWidget(Area, "code")
    )
    community_kind = fields.Field(
        attribute="community_kind",
        column_name=_("Community kind"),
        widget=ChoiceWidget(CommunityKind),
    )
    position = order_field()
    is_active = active_field()

    class Meta:
        model = Area
        import_id_fields = ("code",)
        fields = ("code", "name", "level", "parent", "community_kind", "position", "is_active")

    select_related = ("parent",)

    def get_queryset(self):
        return super().get_queryset().order_by("path")


class WorkstationResource(SpreadsheetResource):
    grid = fields.Field(
        attribute="grid", column_name=_("Grid code"), widget=CodeWidget(Area, "code")
    )
    name = name_field()
    address = fields.Field(attribute="address", column_name=_("Address"))
    phone = fields.Field(attribute="phone", column_name=_("Phone"))
    commander = fields.Field(
        attribute="commander",
        column_name=_("Commander (username)"),
        widget=CodeWidget(User, "username"),
    )
    grid_leader = fields.Field(
        attribute="grid_leader",
        column_name=_("Grid leader (username)"),
        widget=CodeWidget(User, "username"),
    )
    deputy_commanders = fields.Field(
        attribute="deputy_commanders",
        column_name=_("Deputy commanders (usernames)"),
        widget=CodeListWidget(User, "username"),
    )

    class Meta:
        model = Workstation
        import_id_fields = ("grid",)
        fields = (
            "grid",
            "name",
            "address",
            "phone",
            "commander",
            "grid_leader",
            "deputy_commanders",
        )

    select_related = ("grid", "commander", "grid_leader")
    prefetch_related = ("deputy_commanders",)

    def get_queryset(self):
        return super().get_queryset().order_by("grid__path")

    def after_save_instance(self, instance, row, **kwargs):
        sync_workstation_roles(instance)
