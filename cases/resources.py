"""Spreadsheet export of cases (stub)."""

from import_export import resources

from cases.models import Case


class CaseResource(resources.ModelResource):
    class Meta:
        model = Case
