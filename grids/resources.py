"""Spreadsheets of the area tree and workstations (import and export)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import fields

from accounts.choices import Role
from accounts.models import User
from core.errors import DomainError
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
from grids.services import check_workstation_people, sync_workstation_roles


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

    header_aliases = {
        "name": ("区域名称",),
        "level": ("级别",),
        "parent": ("上级编码",),
        "community_kind": ("村居类别",),
    }

    class Meta:
        model = Area
        import_id_fields = ("code",)
        fields = ("code", "name", "level", "parent", "community_kind", "position", "is_active")

    select_related = ("parent",)

    def get_queryset(self):
        return super().get_queryset().order_by("path")


class WorkstationResource(SpreadsheetResource):
    """Workstations by grid code, naming existing, ordinary people by username.

    ``actor`` (who imports) and ``ip`` are needed: the commander's and grid
    leader's roles are granted through ``accounts.services`` as that person.
    A row naming an administrator account is refused; the file then imports
    nothing, like any bad row.
    """

    grid = fields.Field(
        attribute="grid", column_name=_("Grid code"), widget=CodeWidget(Area, "code")
    )
    name = name_field()
    address = fields.Field(attribute="address", column_name=_("Address"))
    phone = fields.Field(attribute="phone", column_name=_("Contact phone"))
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

    header_aliases = {
        "grid": ("网格编码", "所属网格代码"),
        "name": ("工作站名称",),
        "commander": ("指挥长", "指挥长账号"),
        "grid_leader": ("网格长", "网格长账号"),
        "deputy_commanders": ("副指挥长", "副指挥长账号"),
    }

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

    def __init__(self, *, actor=None, ip: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.actor, self.ip = actor, ip

    def _check(self, posts: dict, grid) -> None:
        problems = {}
        for field, people in posts.items():
            try:
                check_workstation_people(people, grid=grid, actor=self.actor)
            except DomainError as error:
                problems[field] = [str(error)]
        if problems:
            raise ValidationError(problems)

    def before_save_instance(self, instance, row, **kwargs):
        super().before_save_instance(instance, row, **kwargs)
        if self.actor is None:
            raise ValidationError(_("The import must know who imports (it names people)."))
        people = [(instance.commander, Role.COMMANDER), (instance.grid_leader, Role.GRID_LEADER)]
        self._check(
            {
                "commander": [p for p in people[:1] if p[0] is not None],
                "grid_leader": [p for p in people[1:] if p[0] is not None],
            },
            instance.grid,
        )

    def save_m2m(self, instance, row, **kwargs):
        super().save_m2m(instance, row, **kwargs)
        deputies = [(person, None) for person in instance.deputy_commanders.all()]
        self._check({"deputy_commanders": deputies}, instance.grid)
        try:
            sync_workstation_roles(instance, actor=self.actor, ip=self.ip)
        except DomainError as error:
            raise ValidationError(str(error)) from None
