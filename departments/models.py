"""Departments (the lines, 条) and the people who work in them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedCharField, digest
from core.models import TimeStampedModel
from departments.choices import DepartmentKind, DepartmentLevel
from grids.choices import AreaLevel
from grids.models import Area, code_validator


class DepartmentQuerySet(models.QuerySet):
    def active(self) -> DepartmentQuerySet:
        return self.filter(is_active=True)

    def serving(self, area: Area) -> DepartmentQuerySet:
        """Departments that serve ``area``: they serve it or a node above it."""
        codes = [c for c in area.path.strip("/").split("/") if c]
        return self.filter(served_areas__code__in=codes).distinct()


class Department(TimeStampedModel):
    """A district or town department; it serves the subtrees of ``served_areas``."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100, db_index=True)
    short_name = models.CharField(_("short name"), max_length=32, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=DepartmentLevel.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=DepartmentKind.choices, db_index=True)
    town = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="town_departments",
        verbose_name=_("town"),
        limit_choices_to={"level": AreaLevel.TOWN},
        help_text=_("For town-level departments: the town they belong to."),
    )
    served_areas = models.ManyToManyField(
        Area,
        blank=True,
        related_name="serving_departments",
        verbose_name=_("served areas"),
        help_text=_("The department serves these areas and everything under them."),
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["level", "code"]
        constraints = [
            models.CheckConstraint(
                name="town_department_has_town",
                condition=Q(level="district", town__isnull=True)
                | Q(level="town", town__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.level == DepartmentLevel.TOWN and not self.town_id:
            raise ValidationError({"town": _("A town-level department names its town.")})
        if self.level == DepartmentLevel.DISTRICT and self.town_id:
            raise ValidationError({"town": _("A district-level department has no town.")})


class StaffMembershipQuerySet(models.QuerySet):
    def active(self) -> StaffMembershipQuerySet:
        return self.filter(is_active=True, user__is_active=True)

    def on_duty(self) -> StaffMembershipQuerySet:
        return self.active().filter(on_duty=True)


class StaffMembership(TimeStampedModel):
    """A person working in a department: title, work phone, whether on duty."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("person"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("department"),
    )
    title = models.CharField(_("Post"), max_length=64, blank=True)
    phone = EncryptedCharField(_("Contact phone"), max_length=32, blank=True)
    phone_digest = models.CharField(
        _("phone digest"), max_length=64, blank=True, editable=False, db_index=True
    )
    on_duty = models.BooleanField(_("on duty"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = StaffMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        ordering = ["department__code", "user__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="unique_membership"),
        ]
        indexes = [models.Index(fields=["department", "on_duty"], name="membership_on_duty")]
        permissions = [("view_staff_phone", _("Can see staff phone numbers whole"))]

    def __str__(self) -> str:
        return f"{self.user} · {self.department}"

    def fill_digest(self) -> None:
        """Set ``phone_digest`` from ``phone`` (``save`` does; bulk writes call it first)."""
        self.phone_digest = digest(self.phone) if self.phone else ""

    def save(self, *args, **kwargs):
        self.fill_digest()
        if kwargs.get("update_fields") is not None and "phone" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "phone_digest"}
        super().save(*args, **kwargs)
