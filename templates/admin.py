"""Categories, case templates and their form fields: the low-code part of the back office."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.spreadsheets import SpreadsheetAdmin
from templates.models import CaseTemplate, Category, TemplateField
from templates.resources import CaseTemplateResource, CategoryResource, TemplateFieldResource


@admin.register(Category)
class CategoryAdmin(SpreadsheetAdmin):
    resource_classes = [CategoryResource]
    list_display = ("__str__", "code", "parent", "position", "is_active")
    list_filter = ("is_active", "parent")
    search_fields = ("name", "code")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)


class TemplateFieldInline(admin.TabularInline):
    model = TemplateField
    fields = ("position", "key", "label", "kind", "required", "choices", "help_text")
    extra = 0


@admin.register(CaseTemplate)
class CaseTemplateAdmin(SpreadsheetAdmin):
    resource_classes = [CaseTemplateResource]
    list_display = (
        "name",
        "code",
        "category",
        "default_priority",
        "handling_limit_hours",
        "field_count",
        "is_active",
    )
    list_filter = ("is_active", "default_priority", "category")
    search_fields = ("name", "code", "category__name")
    autocomplete_fields = ("category", "default_departments")
    list_select_related = ("category", "category__parent")
    inlines = [TemplateFieldInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_fields=Count("fields"))

    @admin.display(description=_("form fields"), ordering="n_fields")
    def field_count(self, obj: CaseTemplate) -> int:
        return getattr(obj, "n_fields", 0)  # annotated in get_queryset


@admin.register(TemplateField)
class TemplateFieldAdmin(SpreadsheetAdmin):
    resource_classes = [TemplateFieldResource]
    list_display = ("label", "key", "template", "kind", "required", "position")
    list_filter = ("kind", "required", "template")
    search_fields = ("label", "key", "template__name")
    autocomplete_fields = ("template",)
    list_select_related = ("template",)
