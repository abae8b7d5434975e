"""Spreadsheet import/export of categories, templates and their fields (stub)."""

from import_export import resources

from templates.models import CaseTemplate, Category, TemplateField


class CategoryResource(resources.ModelResource):
    class Meta:
        model = Category


class CaseTemplateResource(resources.ModelResource):
    class Meta:
        model = CaseTemplate


class TemplateFieldResource(resources.ModelResource):
    class Meta:
        model = TemplateField
