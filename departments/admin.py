"""Departments and their staff in the back office."""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from departments.models import Department, StaffMembership
from departments.resources import DepartmentResource, StaffMembershipResource
from departments.services import sync_staff_role


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    fields = ("user", "title", "phone", "on_duty", "is_active")
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Department)
class DepartmentAdmin(ImportExportModelAdmin):
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
        if formset.model is StaffMembership:
            for membership in formset.queryset.model.objects.filter(department=form.instance):
                sync_staff_role(membership)


@admin.register(StaffMembership)
class StaffMembershipAdmin(ImportExportModelAdmin):
    resource_classes = [StaffMembershipResource]
    list_display = ("user", "department", "title", "phone", "on_duty", "is_active")
    list_filter = ("on_duty", "is_active", "department__level", "department__kind")
    search_fields = ("user__name", "user__username", "department__name", "phone")
    autocomplete_fields = ("user", "department")
    list_select_related = ("user", "department")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        sync_staff_role(obj)
