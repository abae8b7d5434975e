"""Spreadsheets of departments and their staff (import and export)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from import_export import fields

from accounts.models import User
from core.errors import DomainError
from core.masking import is_masked, mask_phone
from core.spreadsheets import (
    ChoiceWidget,
    CodeListWidget,
    CodeWidget,
    SpreadsheetResource,
    YesNoWidget,
    active_field,
    code_field,
    name_field,
)
from departments.choices import DepartmentKind, DepartmentLevel
from departments.models import Department, StaffMembership
from departments.services import check_staff_member, sync_staff_role
from grids.models import Area


class DepartmentResource(SpreadsheetResource):
    code = code_field()
    name = name_field()
    short_name = fields.Field(attribute="short_name", column_name=_("Short name"))
    level = fields.Field(
        attribute="level", column_name=_("Level"), widget=ChoiceWidget(DepartmentLevel)
    )
    kind = fields.Field(
        attribute="kind", column_name=_("Kind"), widget=ChoiceWidget(DepartmentKind)
    )
    town = fields.Field(
        attribute="town", column_name=_("Town code"), widget=CodeWidget(Area, "code")
    )
    served_areas = fields.Field(
        attribute="served_areas",
        column_name=_("Served area codes"),
        widget=CodeListWidget(Area, "code"),
    )
    phone = fields.Field(attribute="phone", column_name=_("Contact phone"))
    is_active = active_field()

    header_aliases = {
        "name": ("部门名称", "单位名称"),
        "short_name": ("部门简称",),
        "level": ("级别",),
        "kind": ("部门类型", "类别"),
        "town": ("所属镇", "所属镇（街道）代码", "镇代码"),
        "served_areas": ("服务区域", "服务范围"),
    }

    class Meta:
        model = Department
        import_id_fields = ("code",)
        fields = (
            "code",
            "name",
            "short_name",
            "level",
            "kind",
            "town",
            "served_areas",
            "phone",
            "is_active",
        )

    select_related = ("town",)
    prefetch_related = ("served_areas",)


class StaffMembershipResource(SpreadsheetResource):
    """Staff: names existing, ordinary accounts by username; creates and renames nobody.

    An unknown username, a name that is not the account's, an administrator
    account or the importer themselves is a row error, and the file then
    imports nothing. The staff role is granted (and taken away with an
    inactive row) through ``accounts.services`` as ``actor`` from ``ip``.

    Phones are masked (``138****1234``) unless ``phones_whole`` is given, as it is
    for readers holding ``departments.view_staff_phone``. A masked number read
    back from a file is never stored: an existing membership keeps its number,
    a new one is refused.
    """

    username = fields.Field(attribute="user__username", column_name=_("Username"), readonly=True)
    person_name = fields.Field(
        attribute="user__name", column_name=pgettext_lazy("person", "name"), readonly=True
    )
    department = fields.Field(
        attribute="department",
        column_name=_("Department code"),
        widget=CodeWidget(Department, "code"),
    )
    title = fields.Field(attribute="title", column_name=_("Post"))
    phone = fields.Field(attribute="phone", column_name=_("Contact phone"))
    on_duty = fields.Field(
        attribute="on_duty", column_name=_("On duty"), widget=YesNoWidget(), default=True
    )
    is_active = active_field()

    header_aliases = {
        "username": ("账号", "帐号", "登录账号", "登录名"),
        # the earlier export's 名称 and 标题 too, so its files still import
        "person_name": ("姓名", "名字", "人员姓名", "名称", "Full name", "Name"),
        "department": ("部门编码",),
        "title": ("职务", "职位", "岗位", "标题", "Title"),
        "on_duty": ("是否在岗",),
        "is_active": ("是否在用",),
    }

    class Meta:
        model = StaffMembership
        import_id_fields = ("username", "department")
        fields = ("username", "person_name", "department", "title", "phone", "on_duty", "is_active")

    select_related = ("user", "department")

    def __init__(self, *, phones_whole: bool = False, actor=None, ip=None, **kwargs):
        super().__init__(**kwargs)
        self.phones_whole = phones_whole
        self.actor, self.ip = actor, ip

    def dehydrate_phone(self, membership: StaffMembership) -> str:
        return membership.phone if self.phones_whole else mask_phone(membership.phone)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.attribute == "phone" and is_masked(row.get(field.column_name)):
            if instance.pk is None:
                raise ValueError(
                    _(
                        "“%(value)s” is a masked number: write the whole number, "
                        "or leave the cell empty."
                    )
                    % {"value": row.get(field.column_name)}
                )
            return  # a masked export read back: the stored number stays
        super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def get_instance(self, instance_loader, row):
        username = str(row.get(self.fields["username"].column_name) or "").strip()
        department = self.fields["department"].clean(row)
        if not username or department is None:
            return None
        return StaffMembership.objects.filter(
            user__username=username, department=department
        ).first()

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        username = str(row.get(self.fields["username"].column_name) or "").strip()
        if not username:
            # A ValidationError makes this an invalid row, listed with the others.
            raise ValidationError({"user__username": _("A username is required.")})
        if self.actor is None:
            raise ValidationError(_("The import must know who imports (it names people)."))
        user = User.objects.filter(username=username).first()
        if user is None:
            raise ValidationError(
                {
                    "user__username": _(
                        "No account “%(username)s”: the security administrator creates "
                        "accounts; the staff list only names them."
                    )
                    % {"username": username}
                }
            )
        name = str(row.get(self.fields["person_name"].column_name) or "").strip()
        if name and name != user.name:
            raise ValidationError(
                {
                    "user__name": _(
                        "The account “%(username)s” belongs to %(name)s: check the row "
                        "(the import renames nobody)."
                    )
                    % {"username": username, "name": user.name}
                }
            )
        try:
            department = self.fields["department"].clean(row)
        except ValueError:
            department = None  # reported by the department column itself
        try:
            check_staff_member(user, department, actor=self.actor)
        except DomainError as error:
            raise ValidationError({"user__username": str(error)}) from None
        self._user = user

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        instance.user = self._user

    def after_save_instance(self, instance, row, **kwargs):
        try:
            sync_staff_role(instance, actor=self.actor, ip=self.ip)
        except DomainError as error:
            raise ValidationError({"user__username": str(error)}) from None
