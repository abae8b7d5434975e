"""Departments and their staff in the back office."""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.admin import RefusalsAsMessages
from accounts.forms import for_request
from accounts.models import User
from audit.request import client_ip
from audit.services import audit_personal_data
from core.crypto import digest
from core.masking import mask_phone, may_see_whole_phones
from core.spreadsheets import SpreadsheetAdmin
from departments.forms import StaffMembershipForm, StaffMembershipFormSet
from departments.models import Department, StaffMembership
from departments.resources import DepartmentResource, StaffMembershipResource
from departments.services import remove_staff_members, sync_staff_role, sync_staff_roles_of


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    formset = StaffMembershipFormSet
    fields = ("user", "title", "phone", "on_duty", "is_active")
    autocomplete_fields = ("user",)
    extra = 0

    def get_fields(self, request, obj=None):
        if may_see_whole_phones(request.user):
            return self.fields
        return tuple(f for f in self.fields if f != "phone")

    def get_formset(self, request, obj=None, **kwargs):
        return for_request(super().get_formset(request, obj, **kwargs), request)


@admin.register(Department)
class DepartmentAdmin(RefusalsAsMessages, SpreadsheetAdmin):
    resource_classes = [DepartmentResource]
    list_display = ("name", "code", "level", "kind", "town", "staff_count", "is_active")
    list_filter = ("level", "kind", "town", "is_active")
    search_fields = ("name", "code", "short_name")
    autocomplete_fields = ("town", "served_areas")
    list_select_related = ("town",)
    inlines = [StaffMembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(active_staff=Count("memberships", filter=Q(memberships__is_active=True)))
        )

    @admin.display(description=_("staff"), ordering="active_staff")
    def staff_count(self, obj: Department) -> int:
        return getattr(obj, "active_staff", 0)  # annotated in get_queryset

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is StaffMembership:  # the rows this page added, changed or deleted
            touched = [*formset.new_objects, *(m for m, _fields in formset.changed_objects)]
            for membership in touched:
                sync_staff_role(membership, actor=request.user, ip=client_ip(request))
            for user in {m.user for m in formset.deleted_objects}:
                sync_staff_roles_of(user, actor=request.user, ip=client_ip(request))


@admin.register(StaffMembership)
class StaffMembershipAdmin(RefusalsAsMessages, SpreadsheetAdmin):
    """Staff, with phone numbers masked unless the reader may see them (then audited).

    Staff are existing, ordinary accounts; their role comes through the role service.
    """

    resource_classes = [StaffMembershipResource]
    form = StaffMembershipForm
    list_display = ("user", "department", "title", "masked_phone", "on_duty", "is_active")
    list_filter = ("on_duty", "is_active", "department__level", "department__kind")
    search_fields = ("user__name", "user__username", "department__name")

    @staticmethod
    def sees_phones(request) -> bool:
        return may_see_whole_phones(request.user)

    def get_list_display(self, request):
        if not self.sees_phones(request):
            return self.list_display
        return tuple("phone" if c == "masked_phone" else c for c in self.list_display)

    def changelist_view(self, request, extra_context=None):
        if self.sees_phones(request):
            audit_personal_data(request, None, "staff_list")
        return super().changelist_view(request, extra_context)

    def get_export_resource_kwargs(self, request, **kwargs):
        """Spreadsheets mask phones as the list does."""
        kwargs = super().get_export_resource_kwargs(request, **kwargs)
        return {**kwargs, "phones_whole": self.sees_phones(request)}

    def get_data_for_export(self, request, queryset, **kwargs):
        """The export; one with phones whole is audited, like the list."""
        data = super().get_data_for_export(request, queryset, **kwargs)
        phone_column = str(StaffMembershipResource.fields["phone"].column_name)
        if self.sees_phones(request) and phone_column in data.headers:
            audit_personal_data(request, None, "staff_export", rows=len(data))
        return data

    @admin.display(description=_("phone"))
    def masked_phone(self, membership) -> str:
        return mask_phone(membership.phone)

    def get_search_results(self, request, queryset, search_term):
        """A whole phone number is found through its digest (the column is encrypted)."""
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        digits = "".join(ch for ch in search_term if ch.isdigit())
        if len(digits) >= 7:
            queryset |= self.model.objects.filter(phone_digest=digest(search_term))
        return queryset, duplicates

    def get_exclude(self, request, obj=None):
        return () if self.sees_phones(request) else ("phone",)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self.sees_phones(request):
            audit_personal_data(request, None, "staff_form", object_id=object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    autocomplete_fields = ("user", "department")
    list_select_related = ("user", "department")

    def get_form(self, request, obj=None, **kwargs):
        return for_request(super().get_form(request, obj, **kwargs), request)

    def get_import_resource_kwargs(self, request, **kwargs):
        """Imports grant the staff role as the person importing, from their address."""
        kwargs = super().get_import_resource_kwargs(request, **kwargs)
        return {**kwargs, "actor": request.user, "ip": client_ip(request)}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        sync_staff_role(obj, actor=request.user, ip=client_ip(request))
        previous = form.initial.get("user") if change else None
        if previous is not None and previous != obj.user_id:  # moved to another person
            sync_staff_roles_of(
                User.objects.get(pk=previous), actor=request.user, ip=client_ip(request)
            )

    def delete_model(self, request, obj):
        remove_staff_members([obj], actor=request.user, ip=client_ip(request))

    def delete_queryset(self, request, queryset):
        remove_staff_members(
            list(queryset.select_related("user")), actor=request.user, ip=client_ip(request)
        )
