"""Spreadsheet import/export of departments and staff (stub)."""

from import_export import resources

from departments.models import Department, StaffMembership


class DepartmentResource(resources.ModelResource):
    class Meta:
        model = Department


class StaffMembershipResource(resources.ModelResource):
    class Meta:
        model = StaffMembership
