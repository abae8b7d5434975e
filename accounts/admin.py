"""People and their roles in the back office.

Every change of an account or a role goes through ``accounts.services``, which
keeps the three administrators apart (三权分立) and audits each change with
who made it and from where. Superuser status, groups and permissions are
shown to superusers only; an account the reader may not manage (their own,
an administrator's for anyone but a superuser) opens read-only.
"""

from __future__ import annotations

import copy

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static import admin as otp_static_admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as otp_totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.token_blacklist import admin as _simplejwt_admin  # noqa: F401
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services, twofactor
from accounts.forms import (
    AccountChangeForm,
    AccountCreationForm,
    PasswordResetForm,
    RoleAssignmentForm,
    RoleAssignmentFormSet,
    for_request,
)
from accounts.models import RoleAssignment, User
from audit.request import client_ip
from core.errors import DomainError


class RefusalsAsMessages:
    """A refusal a service raises while saving (a race past the form's check) rolls the
    whole page back (the admin's views are atomic) and is shown as an error."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(request.get_full_path())

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(request.get_full_path())


class PerObjectRule:
    """Change and delete (and, where ``rule_covers_view``, view) of one object also need
    ``may_alter(request, obj)``: the role service's rule for that object, so a page
    never offers what the service would refuse."""

    rule_covers_view = False

    def may_alter(self, request, obj) -> bool:
        raise NotImplementedError

    def _with_rule(self, allowed: bool, request, obj) -> bool:
        return allowed if obj is None or not allowed else self.may_alter(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._with_rule(super().has_change_permission(request, obj), request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._with_rule(super().has_delete_permission(request, obj), request, obj)

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return self._with_rule(allowed, request, obj) if self.rule_covers_view else allowed


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    formset = RoleAssignmentFormSet
    fields = ("role", "area", "department")
    autocomplete_fields = ("area", "department")
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        return for_request(super().get_formset(request, obj, **kwargs), request)


@admin.register(User)
class UserAdmin(RefusalsAsMessages, PerObjectRule, DjangoUserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    change_password_form = PasswordResetForm
    list_display = ("username", "name", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "role_assignments__role")
    search_fields = ("username", "name", "email")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("name", "email")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "name", "password1", "password2")}),
    )
    inlines = [RoleAssignmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        hidden = services.SUPERUSER_ONLY_FIELDS
        return [
            (name, {**options, "fields": tuple(f for f in options["fields"] if f not in hidden)})
            for name, options in fieldsets
        ]

    def get_form(self, request, obj=None, **kwargs):
        return for_request(super().get_form(request, obj, **kwargs), request)

    def may_alter(self, request, obj) -> bool:
        return services.may_manage_account(obj, actor=request.user)

    def save_model(self, request, obj, form, change):
        if change:
            services.update_account(
                obj, fields=form.changed_data, actor=request.user, ip=client_ip(request)
            )
        else:
            services.create_account(obj, actor=request.user, ip=client_ip(request))

    def save_formset(self, request, form, formset, change):
        if formset.model is not RoleAssignment:
            return super().save_formset(request, form, formset, change)
        save_role_formset(formset, actor=request.user, ip=client_ip(request))
        return None

    def delete_model(self, request, obj):
        services.delete_account(obj, actor=request.user, ip=client_ip(request))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for user in queryset:
                services.delete_account(user, actor=request.user, ip=client_ip(request))

    def user_change_password(self, request, id, form_url=""):
        """Django's page, its form bound to the person resetting (for the service and audit)."""
        for_this_request = copy.copy(self)
        for_this_request.change_password_form = for_request(self.change_password_form, request)
        return DjangoUserAdmin.user_change_password(for_this_request, request, id, form_url)


def save_role_formset(formset, *, actor, ip) -> None:
    """Save a role list edited on a person's page through the services: removals first."""
    formset.save(commit=False)
    for assignment in formset.deleted_objects:
        services.revoke_role(assignment, actor=actor, ip=ip)
    for assignment, _fields in formset.changed_objects:
        services.change_role(
            assignment,
            user=assignment.user,
            role=assignment.role,
            area=assignment.area,
            department=assignment.department,
            actor=actor,
            ip=ip,
        )
    for assignment in formset.new_objects:
        granted = services.grant_role(
            assignment.user,
            assignment.role,
            area=assignment.area,
            department=assignment.department,
            actor=actor,
            ip=ip,
        )
        assignment.pk, assignment.created_at = granted.pk, granted.created_at


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(RefusalsAsMessages, PerObjectRule, admin.ModelAdmin):
    form = RoleAssignmentForm
    list_display = ("user", "role", "area", "department", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__name", "area__name", "department__name")
    autocomplete_fields = ("user", "area", "department")
    list_select_related = ("user", "area", "department")

    def get_form(self, request, obj=None, **kwargs):
        return for_request(super().get_form(request, obj, **kwargs), request)

    def may_alter(self, request, obj) -> bool:
        return services.may_alter_assignment(obj, actor=request.user)

    def save_model(self, request, obj, form, change):
        actor, ip = request.user, client_ip(request)
        if change:
            services.change_role(
                obj,
                user=obj.user,
                role=obj.role,
                area=obj.area,
                department=obj.department,
                actor=actor,
                ip=ip,
            )
            return
        granted = services.grant_role(
            obj.user, obj.role, area=obj.area, department=obj.department, actor=actor, ip=ip
        )
        obj.pk, obj.created_at = granted.pk, granted.created_at

    def delete_model(self, request, obj):
        services.revoke_role(obj, actor=request.user, ip=client_ip(request))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for assignment in queryset.select_related("user", "area", "department"):
                services.revoke_role(assignment, actor=request.user, ip=client_ip(request))


class OnlyManagedAccountsDevices(PerObjectRule):
    """An authenticator is a credential: seeing one, or removing it (to reset a lost
    phone), is for accounts the reader may manage, never their own or an
    administrator's. Its secrets (key, QR code, recovery codes) are shown to nobody
    (``OTP_ADMIN_HIDE_SENSITIVE_DATA``)."""

    rule_covers_view = True

    def get_queryset(self, request):
        devices = super().get_queryset(request)
        owners = User.objects.filter(pk__in=devices.values("user_id"))
        managed = [u.pk for u in owners if services.may_manage_account(u, actor=request.user)]
        return devices.filter(user_id__in=managed)

    def may_alter(self, request, obj) -> bool:
        return services.may_manage_account(obj.user, actor=request.user)


class TOTPDeviceAdmin(
    OnlyManagedAccountsDevices, twofactor.DeviceNameDisplay, otp_totp_admin.TOTPDeviceAdmin
):
    pass


class StaticDeviceAdmin(
    OnlyManagedAccountsDevices, twofactor.DeviceNameDisplay, otp_static_admin.StaticDeviceAdmin
):
    pass


# django-otp registers its own (importing its modules above did); ours replace them.
for device, device_admin in ((TOTPDevice, TOTPDeviceAdmin), (StaticDevice, StaticDeviceAdmin)):
    admin.site.unregister(device)
    admin.site.register(device, device_admin)


class TokenRowAdmin(admin.ModelAdmin):
    """A refresh token's row, read-only, without the token: who, which login, when, ended.

    The token itself is never shown (nor kept whole: ``accounts.api.tokens``); a
    person's logins are ended through the account (password reset, deactivation).
    """

    actions = None
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("login id"))
    def jti_start(self, obj) -> str:
        jti = getattr(obj, "jti", None) or obj.token.jti
        return f"{jti[:8]}…"


class OutstandingTokenAdmin(TokenRowAdmin):
    list_display = ("user", "jti_start", "created_at", "expires_at", "blacklisted")
    fields = list_display
    readonly_fields = list_display
    search_fields = ("user__username", "user__name")
    ordering = ("-created_at",)
    list_select_related = ("user", "blacklistedtoken")

    @admin.display(description=_("ended"), boolean=True)
    def blacklisted(self, obj) -> bool:
        return hasattr(obj, "blacklistedtoken")


class BlacklistedTokenAdmin(TokenRowAdmin):
    list_display = ("user", "jti_start", "created_at", "expires_at", "blacklisted_at")
    fields = list_display
    readonly_fields = list_display
    search_fields = ("token__user__username", "token__user__name")
    ordering = ("-blacklisted_at",)
    list_select_related = ("token__user",)

    @admin.display(description=_("user"))
    def user(self, obj):
        return obj.token.user

    @admin.display(description=_("created at"))
    def created_at(self, obj):
        return obj.token.created_at

    @admin.display(description=_("expires at"))
    def expires_at(self, obj):
        return obj.token.expires_at


# simplejwt's own admin (imported above, so registered first) shows the whole token.
for token_model, token_admin in (
    (OutstandingToken, OutstandingTokenAdmin),
    (BlacklistedToken, BlacklistedTokenAdmin),
):
    admin.site.unregister(token_model)
    admin.site.register(token_model, token_admin)

admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """Groups: a group's permissions reach every member, so only a superuser sets them."""

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly if request.user.is_superuser else (*readonly, "permissions")
