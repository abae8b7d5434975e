"""Spreadsheets of departments and their staff (import and export)."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from import_export import fields

from accounts.choices import Role
from accounts.models import User
from accounts.services import nomination_checker
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
from departments.services import sync_staff_roles_of_many
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
        use_bulk = True

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

    # ------------------------------------------------------------ importing
    #
    # Everything a row needs is read once per import (``before_import``: the
    # accounts named, the departments, the memberships and roles they have), the
    # memberships are written by ``bulk_create``/``bulk_update`` (``use_bulk``) and
    # the staff roles granted and taken away together afterwards
    # (``departments.services.sync_staff_roles_of_many``): a fixed number of
    # queries whatever the number of rows, with the same checks, the same row
    # errors and the same audit records as one row at a time.

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        column = str(self.fields["username"].column_name)
        names = (
            {str(v or "").strip() for v in dataset[column]} if column in dataset.headers else set()
        )
        names.discard("")
        self._users = User.objects.in_bulk(names, field_name="username")
        self._memberships = {
            (m.user_id, m.department_id): m
            for m in StaffMembership.objects.filter(user__in=self._users.values()).select_related(
                "user", "department"
            )
        }
        self._check = nomination_checker(self._users.values(), Role.STAFF, actor=self.actor)
        self._touched: dict[int, User] = {}
        self._queued: set[int] = set()  # id() of the memberships queued for a bulk write

    def get_instance(self, instance_loader, row):
        username = str(row.get(self.fields["username"].column_name) or "").strip()
        department = self.fields["department"].clean(row)
        user = self._users.get(username)
        if user is None or department is None:
            return None
        return self._memberships.get((user.pk, department.pk))

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        username = str(row.get(self.fields["username"].column_name) or "").strip()
        if not username:
            # A ValidationError makes this an invalid row, listed with the others.
            raise ValidationError({"user__username": _("A username is required.")})
        if self.actor is None:
            raise ValidationError(_("The import must know who imports (it names people)."))
        user = self._users.get(username)
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
            self._check(user, department=department)
        except DomainError as error:
            raise ValidationError({"user__username": str(error)}) from None
        self._user = user

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        instance.user = self._user

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's checks, less those that would each cost a query per row: the
        account and the department are rows read by this import, and a second row
        for the same person and department finds the first (``get_instance``)."""
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=[*errors, "user", "department"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        """Queued for the bulk writes; a second row of the same membership changes the
        queued one (as it would change the saved one, one row at a time)."""
        self.before_save_instance(instance, row, **kwargs)
        self._memberships[(instance.user.pk, instance.department.pk)] = instance
        if id(instance) not in self._queued:
            self._queued.add(id(instance))
            (self.create_instances if instance.pk is None else self.update_instances).append(
                instance
            )
        self.after_save_instance(instance, row, **kwargs)

    def after_save_instance(self, instance, row, **kwargs):
        self._touched[instance.user.pk] = instance.user

    def get_bulk_update_fields(self):
        return ["title", "phone", "phone_digest", "on_duty", "is_active", "updated_at"]

    def bulk_create(self, *args, **kwargs):
        for membership in self.create_instances:
            membership.fill_digest()
        super().bulk_create(*args, **kwargs)

    def bulk_update(self, *args, **kwargs):
        now = timezone.now()
        for membership in self.update_instances:
            membership.fill_digest()
            membership.updated_at = now
        super().bulk_update(*args, **kwargs)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if result.has_errors() or result.has_validation_errors():
            return  # everything is rolled back: no roles to reckon
        # A refusal here (``DomainError``, translated) is the import's error: all rolls back.
        sync_staff_roles_of_many(self._touched.values(), actor=self.actor, ip=self.ip)
