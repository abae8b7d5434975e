"""People and the roles they hold, each scoped to an area or a department."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.choices import ADMIN_ROLES, AREA_ROLES, DEPARTMENT_ROLES, GLOBAL_ROLES, Role


class User(AbstractUser):
    """A person who logs in. ``name`` is the real name (姓名) shown everywhere."""

    name = models.CharField(
        pgettext_lazy("person", "name"), max_length=64, blank=True, db_index=True
    )
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")  # type: ignore[assignment]  # stubs want str; lazy is right
        verbose_name_plural = _("users")  # type: ignore[assignment]
        ordering = ["username"]

    def __str__(self) -> str:
        return self.name or self.username

    def get_full_name(self) -> str:
        return self.name or super().get_full_name()

    def set_password(self, raw_password) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @property
    def password_expired(self) -> bool:
        """Older than ``JINSHAO_PASSWORD_MAX_AGE_DAYS`` (0: never expires)."""
        days = settings.JINSHAO_PASSWORD_MAX_AGE_DAYS
        if not days or not self.has_usable_password():
            return False
        changed = self.password_changed_at or self.date_joined
        return changed < timezone.now() - timedelta(days=days)


class RoleAssignmentQuerySet(models.QuerySet):
    def active(self) -> RoleAssignmentQuerySet:
        return self.filter(user__is_active=True)


class RoleAssignment(models.Model):
    """One role held by one person over one scope.

    Area roles reach the whole subtree of their area; department roles one
    department; global roles have no scope. The department ``staff`` role is
    normally granted together with a department membership
    (``departments.services.add_staff_member``).
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, db_index=True)
    area = models.ForeignKey(
        "grids.Area",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name=_("area"),
    )
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name=_("department"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["user_id", "role"]
        constraints = [
            models.CheckConstraint(
                name="role_scope_matches_role",
                condition=(
                    Q(role__in=sorted(AREA_ROLES), area__isnull=False, department__isnull=True)
                    | Q(
                        role__in=sorted(DEPARTMENT_ROLES),
                        area__isnull=True,
                        department__isnull=False,
                    )
                    | Q(role__in=sorted(GLOBAL_ROLES), area__isnull=True, department__isnull=True)
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "area"],
                condition=Q(area__isnull=False),
                name="unique_area_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=Q(department__isnull=False),
                name="unique_department_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(area__isnull=True, department__isnull=True),
                name="unique_global_role",
            ),
            # 三权分立: at most one of the three administrator roles per account,
            # enforced by the database whatever path writes the row.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role__in=sorted(ADMIN_ROLES)),
                name="one_admin_role_per_user",
            ),
        ]

    def __str__(self) -> str:
        scope = self.area or self.department
        label = self.get_role_display()
        return f"{self.user} · {label}" + (f" · {scope}" if scope else "")

    def clean(self) -> None:
        role = self.role
        if role in AREA_ROLES and (not self.area_id or self.department_id):
            raise ValidationError({"area": _("This role is scoped to an area: choose an area.")})
        if role in DEPARTMENT_ROLES and (not self.department_id or self.area_id):
            raise ValidationError(
                {"department": _("This role is scoped to a department: choose a department.")}
            )
        if role in GLOBAL_ROLES and (self.area_id or self.department_id):
            raise ValidationError(_("This role has no scope: leave area and department empty."))
        if role in ADMIN_ROLES and self.user_id:
            others = RoleAssignment.objects.filter(user_id=self.user_id, role__in=ADMIN_ROLES)
            if self.pk:
                others = others.exclude(pk=self.pk)
            if others.exists():
                raise ValidationError(
                    {"role": _("An account may hold only one of the three administrator roles.")}
                )


class SocketTicket(models.Model):
    """A short-lived, single-use pass for opening a WebSocket from a phone.

    Phones authenticate HTTP with a bearer token, which a browser-style
    WebSocket handshake cannot carry in a header; they trade it for a ticket
    and put the ticket in the socket URL. The ticket remembers the login it was
    fetched with (password stamp, refresh token id or browser session, issue
    time), and a login that ended since opens nothing with it. Only the ticket's SHA-256 is stored,
    and it is spent by one conditional UPDATE, so two sockets racing with one
    ticket cannot both get in, whichever server process they reach.
    """

    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="socket_tickets", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # The login it was fetched with (``accounts.services.spend_socket_ticket`` checks it).
    stamp = models.CharField(_("password stamp"), max_length=16, blank=True)
    sid = models.CharField(_("refresh token id"), max_length=64, blank=True)
    session_key = models.CharField(_("session key"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("socket ticket")
        verbose_name_plural = _("socket tickets")

    def __str__(self) -> str:
        return f"{self.user} · {self.expires_at:%Y-%m-%d %H:%M:%S}"
