"""The back office's forms: log-in, accounts, passwords and roles."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext as _

from accounts import services
from accounts.lockout import one_attempt_at_a_time
from accounts.models import RoleAssignment
from core.errors import DomainError


class LoginForm(AdminAuthenticationForm):
    """Django's admin log-in, one attempt at a time per account and address, so
    django-axes' lock-out check and failure count happen together."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username is None:
            return super().clean()  # nothing to check a password for
        with one_attempt_at_a_time(self.request, username):
            return super().clean()

    def confirm_login_allowed(self, user):
        """The right password of an account without back-office access is told so,
        not that the name or password is wrong (a village official tries the phone's)."""
        if user.is_active and not user.is_staff:
            raise ValidationError(
                _("This account has no back-office access: please use the phone app."),
                code="no_back_office",
            )
        super().confirm_login_allowed(user)


# ------------------------------------------------------------------ accounts and roles
#
# Each form below checks the rules of the three administrators while it is
# validated, so a refusal is a form error; the services check again when they
# write. The admin binds ``actor`` (the person asking) and ``ip`` to the form
# class per request (``for_request``).


def for_request(form_class, request):
    """``form_class`` with the asking person and address bound (forms get no request)."""
    from audit.request import client_ip

    attrs = {"actor": request.user, "ip": client_ip(request)}
    return type(form_class.__name__, (form_class,), attrs)


def add_refusal(form, error: DomainError) -> None:
    """A domain error as a form error (on top), keeping its stable code."""
    form.add_error(None, ValidationError(str(error), code=error.code))


class _RefusesSuperuserFields:
    """Superuser status, groups and permissions posted by anyone else are refused.

    The admin leaves those fields out of the form for everybody but
    superusers, so Django would silently ignore them; this says so instead.
    """

    actor = None
    data: Any

    def refuse_superuser_fields(self) -> None:
        actor = self.actor
        if actor is not None and actor.is_superuser:
            return
        posted = sorted(services.SUPERUSER_ONLY_FIELDS & set(self.data))
        if posted:
            raise ValidationError(
                _("Only a superuser changes superuser status, groups and permissions."),
                code="account.superuser_fields",
            )


class AccountChangeForm(_RefusesSuperuserFields, UserChangeForm):
    """The admin's account form: the rules of ``accounts.services.check_account_change``."""

    def clean(self):
        cleaned = super().clean()
        self.refuse_superuser_fields()
        try:
            services.check_account_change(self.instance, fields=self.changed_data, actor=self.actor)
        except DomainError as error:
            add_refusal(self, error)
        return cleaned


class AccountCreationForm(_RefusesSuperuserFields, AdminUserCreationForm):
    """The admin's new-account form."""

    def clean(self):
        cleaned = super().clean()
        self.refuse_superuser_fields()
        try:
            services.check_account_change(None, fields=(), actor=self.actor)
        except DomainError as error:
            add_refusal(self, error)
        return cleaned


class PasswordResetForm(AdminPasswordChangeForm):
    """Another person's password set in the admin, through ``accounts.services.reset_password``."""

    actor = None
    ip = None

    def clean(self):
        cleaned = super().clean()
        try:
            services.check_account_change(self.user, fields=("password",), actor=self.actor)
        except DomainError as error:
            add_refusal(self, error)
        return cleaned

    def set_password_and_save(self, user, commit=True, **kwargs):
        raw = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        return services.reset_password(user, raw, actor=self.actor, ip=self.ip)


class RoleAssignmentForm(forms.ModelForm):
    """One role of one person (the role list's add and change pages)."""

    actor = None
    ip = None

    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "area", "department")

    def clean(self):
        cleaned = super().clean()
        user, role = cleaned.get("user"), cleaned.get("role")
        if user is None or not role or self.errors:
            return cleaned
        try:
            if self.instance.pk is None:
                services.check_grant(user, role, actor=self.actor)
            else:
                stored = RoleAssignment.objects.select_related("user").get(pk=self.instance.pk)
                services.check_revoke(stored, actor=self.actor)
                services.check_grant(user, role, actor=self.actor, replacing=stored.pk)
        except DomainError as error:
            add_refusal(self, error)
        return cleaned


class RoleAssignmentFormSet(BaseInlineFormSet):
    """The roles on a person's page, checked together (what stays, what goes, what comes)."""

    actor = None
    ip = None

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        keep: list[str] = []
        add: list[str] = []
        remove: list[RoleAssignment] = []
        stored = {a.pk: a for a in RoleAssignment.objects.filter(user_id=self.instance.pk)}
        for form in self.forms:
            if not getattr(form, "cleaned_data", None):
                continue
            old = stored.get(form.instance.pk)
            role = form.cleaned_data.get("role")
            if self._should_delete_form(form):
                if old is not None:
                    remove.append(old)
            elif old is None:
                add.append(role)
            elif form.has_changed():
                remove.append(old)
                add.append(role)
            else:
                keep.append(old.role)
        if not (add or remove):
            return
        try:
            services.check_roles_edit(
                self.instance, keep=keep, add=add, remove=remove, actor=self.actor
            )
        except DomainError as error:
            raise ValidationError(str(error), code=error.code) from None
