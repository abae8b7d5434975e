"""Department and staff pickers: who serves a community, who is on duty to invite.

Staff phone numbers are masked here (``138****1234``) except for administrators;
the people who work a case together see each other's numbers on the case
itself (``cases/{id}/``).
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.services import audit_personal_data
from core.api.filters import IdFilter
from core.api.pagination import PickerPagination
from core.api.serializers import ModelSerializer
from core.errors import PermissionDenied
from core.masking import mask_phone, may_see_whole_phones
from departments.models import Department, StaffMembership
from grids.models import Area
from ratings.selectors import can_read_department_ratings, department_year


class DepartmentSerializer(ModelSerializer):
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Department
        fields = ("id", "code", "name", "short_name", "level", "level_label", "kind", "kind_label")


class DepartmentFilter(django_filters.FilterSet):
    community = IdFilter(method="serving", label=_("Serves this village or community"))
    q = django_filters.CharFilter(method="search", label=_("Name or code contains"))

    class Meta:
        model = Department
        fields = ["kind", "level"]

    def serving(self, queryset, name, value):
        area = Area.objects.filter(pk=value).first()
        if area is None:
            return queryset.none()
        return queryset.filter(pk__in=Department.objects.serving(area).values("pk"))

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(name__icontains=value) | Q(short_name__icontains=value) | Q(code__icontains=value)
        )


class CriterionMeanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    mean = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)


class RatingFiguresSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("Ratings the figures rest on."))
    withheld = serializers.BooleanField(
        help_text=_("True when too few ratings to show figures without tracing a rater.")
    )
    overall = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    criteria = CriterionMeanSerializer(many=True)


class MonthFiguresSerializer(RatingFiguresSerializer):
    month = serializers.IntegerField()
    count = serializers.IntegerField(
        help_text=_("Every rating of the month once published; means only for K or more.")
    )
    published = serializers.BooleanField(
        help_text=_("The month has ended and its figures are fixed; until then none are shown.")
    )


class DepartmentYearSerializer(RatingFiguresSerializer):
    department = DepartmentSerializer()
    year = serializers.IntegerField()
    min_group = serializers.IntegerField(help_text=_("Fewest ratings a figure is shown for."))
    months = MonthFiguresSerializer(many=True)


class YearQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


class DepartmentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Active departments, optionally those serving a given community."""

    serializer_class = DepartmentSerializer
    pagination_class = PickerPagination
    filterset_class = DepartmentFilter
    queryset = Department.objects.active().order_by("level", "code")

    @extend_schema(
        parameters=[YearQuerySerializer],
        responses={200: DepartmentYearSerializer},
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def ratings(self, request, pk=None):
        """How the department was rated, by ended month (fixed figures over K+ ratings only)."""
        department = self.get_object()
        if not can_read_department_ratings(request.user, department):
            raise PermissionDenied(_("You may not read the ratings of this department."))
        query = YearQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or timezone.localdate().year
        return Response(DepartmentYearSerializer(department_year(department, year)).data)


class StaffDepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StaffSerializer(ModelSerializer):
    id = serializers.IntegerField(
        source="user_id",
        read_only=True,
        help_text=_(
            "The person (a user id, not the membership): give it as `person`, with the "
            "department's id as `department`, to invite them to a case."
        ),
    )
    name = serializers.CharField(source="user.name", read_only=True)
    department = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()

    class Meta:
        model = StaffMembership
        fields = ("id", "name", "title", "department", "phone", "on_duty")

    @extend_schema_field(StaffDepartmentSerializer)
    def get_department(self, membership: StaffMembership) -> dict:
        return {"id": membership.department_id, "name": membership.department.name}

    def get_phone(self, membership: StaffMembership) -> str:
        """Masked unless the asker is an administrator."""
        return (
            membership.phone if self.context.get("unmask_phones") else mask_phone(membership.phone)
        )


class StaffFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label=_("Department")
    )
    q = django_filters.CharFilter(method="search", label=_("Name contains"))

    class Meta:
        model = StaffMembership
        fields = ["department"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(user__name__icontains=value) | Q(user__username=value))


class StaffViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Staff on duty (to invite), searchable by name, with masked phone numbers."""

    serializer_class = StaffSerializer
    pagination_class = PickerPagination
    filterset_class = StaffFilter
    queryset = (
        StaffMembership.objects.on_duty()
        .filter(department__is_active=True)
        .select_related("user", "department")
        .order_by("department__code", "user__name", "id")
    )

    def get_serializer_context(self):
        unmask = may_see_whole_phones(self.request.user)
        if unmask and self.action == "list":
            audit_personal_data(self.request, None, "staff_directory")
        return {**super().get_serializer_context(), "unmask_phones": unmask}
