"""Two factors (TOTP, django-otp) for the administrator roles and anyone in the back office.

A person who must use a second factor and has not yet given it this session
is half logged in: the back office shows them nothing but the second-factor
page (``accounts.middleware.SecondFactorMiddleware``); the API answers
``second_factor_required`` (``accounts.permissions.SecondFactorDone``); a
socket opened with the session cookie is refused. Phones log in with a token
that asks for the code in the same request (``otp``).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.choices import ADMIN_ROLES
from accounts.selectors import has_role

RECOVERY_CODES = 10

#: The names this module gives the devices it makes (stored as codes) → label.
AUTHENTICATOR = "authenticator"
RECOVERY = "recovery"
DEVICE_LABELS = {AUTHENTICATOR: _("Authenticator app"), RECOVERY: _("Recovery codes")}


def device_label(name: str) -> str:
    """The label of a device's stored ``name`` ("recovery" → 备用恢复码); a name a
    person typed is shown as it is."""
    return str(DEVICE_LABELS.get(name, name))


def required(user) -> bool:
    """Administrators and back-office users must; other roles when configured to."""
    if not settings.JINSHAO_2FA_ENFORCED or not (user and user.is_authenticated):
        return False
    if user.is_superuser or user.is_staff or has_role(user, ADMIN_ROLES):
        return True
    return has_role(user, settings.JINSHAO_2FA_ROLES)


def session_verified(session) -> bool:
    return bool(session.get(DEVICE_ID_SESSION_KEY))


def enrolled(user) -> bool:
    return any(isinstance(d, TOTPDevice) for d in devices_for_user(user, confirmed=True))


def pending_device(user) -> TOTPDevice:
    """The unconfirmed authenticator being set up (made on first visit)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)


def confirm(user, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a new authenticator with its first code; the recovery codes, shown once."""
    if not device.verify_token(code):
        return None
    codes = [secrets.token_hex(4) for _ in range(RECOVERY_CODES)]
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # The new codes first: removing the old set then leaves one (no logins end).
        recovery = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
        StaticDevice.objects.filter(user=user).exclude(pk=recovery.pk).delete()
        StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c) for c in codes])
    return codes


def check(user, code: str):
    """The device a code (authenticator or recovery, used once) matches, or None."""
    code = (code or "").strip().replace(" ", "")
    return match_token(user, code) if code else None


class DeviceNameDisplay:
    """For django-otp's device admins: the name by its label in the list and on a page
    the reader may not change (a page they may change keeps the name to edit)."""

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return ["device_name" if field == "name" else field for field in shown]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj):
            return fieldsets
        return [
            (title, {**options, "fields": [_shown_name(f) for f in options["fields"]]})
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return [*readonly, "device_name"]

    @admin.display(description=_("device name"), ordering="name")
    def device_name(self, device) -> str:
        return device_label(device.name)


def _shown_name(field: str) -> str:
    return "device_name" if field == "name" else field
