"""API permissions shared by every view."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class PasswordNotExpired(BasePermission):
    """An expired password reaches nothing but changing it (views with ``allow_expired``)."""

    message = _("Your password has expired: change it first (POST auth/password/).")
    code = "password_expired"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated) or getattr(view, "allow_expired", False):
            return True
        return not user.password_expired
