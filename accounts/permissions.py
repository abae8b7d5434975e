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


class SecondFactorDone(BasePermission):
    """A browser session that still owes its second factor reaches nothing over the API."""

    message = _("Give your second factor first (in the back office).")
    code = "second_factor_required"

    def has_permission(self, request, view) -> bool:
        from accounts import twofactor

        user = request.user
        if request.auth is not None or not (user and user.is_authenticated):
            return True  # a token without it is refused once it is needed (authentication)
        return not twofactor.required(user) or twofactor.session_verified(request.session)
