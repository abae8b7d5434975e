"""The template picker: common cases with their form, default departments and limits."""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, viewsets

from cases.api.serializers import CategoryBriefSerializer, DepartmentBriefSerializer
from core.api.filters import IdFilter
from core.api.pagination import PickerPagination
from core.api.serializers import ModelSerializer
from departments.models import Department
from templates.models import CaseTemplate, TemplateField


class TemplateFieldSerializer(ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    choices = serializers.ListField(
        source="choice_list", child=serializers.CharField(), read_only=True
    )

    class Meta:
        model = TemplateField
        fields = ("key", "label", "kind", "kind_label", "required", "choices", "help_text")


class TemplateSerializer(ModelSerializer):
    category = CategoryBriefSerializer(read_only=True)
    fields = TemplateFieldSerializer(many=True, read_only=True)
    default_departments = DepartmentBriefSerializer(many=True, read_only=True)
    handling_limit_hours = serializers.SerializerMethodField()
    response_limit_minutes = serializers.SerializerMethodField()

    class Meta:
        model = CaseTemplate
        fields = (
            "id",
            "code",
            "name",
            "category",
            "description",
            "default_priority",
            "handling_limit_hours",
            "response_limit_minutes",
            "default_departments",
            "fields",
        )

    @extend_schema_field(serializers.IntegerField())
    def get_handling_limit_hours(self, template: CaseTemplate) -> int:
        """The template's own limit, or the limit of its default priority."""
        return template.handling_limit_hours or settings.JINSHAO_HANDLING_LIMIT_HOURS.get(
            template.default_priority, 72
        )

    @extend_schema_field(serializers.IntegerField())
    def get_response_limit_minutes(self, template: CaseTemplate) -> int:
        return settings.JINSHAO_RESPONSE_LIMIT_MINUTES


class TemplateFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Name or code contains"))
    category = IdFilter(method="in_category", label=_("Category (or its sub-categories)"))

    class Meta:
        model = CaseTemplate
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))

    def in_category(self, queryset, name, value):
        return queryset.filter(Q(category_id=value) | Q(category__parent_id=value))


class TemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Active case templates, in the administrators' order."""

    serializer_class = TemplateSerializer
    pagination_class = PickerPagination
    filterset_class = TemplateFilter

    def get_queryset(self):
        return (
            CaseTemplate.objects.filter(is_active=True, category__is_active=True)
            .select_related("category")
            .prefetch_related(
                "fields",
                Prefetch(
                    "default_departments",
                    queryset=Department.objects.active().order_by("code"),
                ),
            )
            .order_by("position", "code")
        )
