"""Factories for every model, in one place (STYLE rule 8)."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.choices import Role
from accounts.models import RoleAssignment, User
from departments.choices import DepartmentKind, DepartmentLevel
from departments.models import Department, StaffMembership
from grids.choices import AreaLevel, CommunityKind
from grids.models import Area, Workstation
from ratings.models import Criterion
from templates.models import CaseTemplate, Category, TemplateField

PASSWORD = "Jinshao-Test-2024"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"测试人员{n}")
    password = factory.django.Password(PASSWORD)


class AreaFactory(DjangoModelFactory):
    class Meta:
        model = Area

    code = factory.Sequence(lambda n: f"A{n:05d}")
    name = factory.Sequence(lambda n: f"地区{n}")
    level = AreaLevel.DISTRICT
    parent = None


def make_area(level: int, parent: Area | None = None, **kwargs) -> Area:
    if level == AreaLevel.COMMUNITY:
        kwargs.setdefault("community_kind", CommunityKind.VILLAGE)
    return AreaFactory(level=level, parent=parent, **kwargs)


class WorkstationFactory(DjangoModelFactory):
    class Meta:
        model = Workstation

    name = factory.Sequence(lambda n: f"联勤联动工作站{n}")


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"D{n:04d}")
    name = factory.Sequence(lambda n: f"部门{n}")
    level = DepartmentLevel.DISTRICT
    kind = DepartmentKind.ENFORCEMENT


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    title = "科员"
    phone = factory.Sequence(lambda n: f"138{n:08d}")


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category

    code = factory.Sequence(lambda n: f"C{n:03d}")
    name = factory.Sequence(lambda n: f"类别{n}")


class CaseTemplateFactory(DjangoModelFactory):
    class Meta:
        model = CaseTemplate

    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.Sequence(lambda n: f"模板{n}")
    category = factory.SubFactory(CategoryFactory)


class TemplateFieldFactory(DjangoModelFactory):
    class Meta:
        model = TemplateField

    template = factory.SubFactory(CaseTemplateFactory)
    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"字段{n}")


class CriterionFactory(DjangoModelFactory):
    class Meta:
        model = Criterion
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"crit{n}")
    name = factory.Sequence(lambda n: f"指标{n}")


def grant(
    user: User, role: Role, *, area: Area | None = None, department: Department | None = None
) -> RoleAssignment:
    return RoleAssignment.objects.create(user=user, role=role, area=area, department=department)


def authenticator_code(device) -> str:
    """The code an authenticator app would show now for ``device`` (a TOTPDevice)."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)
