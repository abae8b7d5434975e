"""Shapes of the intake API (documentation for the city platform; parsing is in services)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.serializers import ModelSerializer
from grids.models import Area
from integrations.choices import DeliveryOutcome
from integrations.models import IntakeReview
from integrations.services import describe_problem
from templates.choices import Priority
from templates.models import CaseTemplate


class PlatformCaseSerializer(serializers.Serializer):
    """What the city platform sends (documents the body; ``services.parse_platform_case`` checks it)."""

    external_id = serializers.CharField(
        max_length=40, help_text=_("Their id, unique in their system.")
    )
    category_code = serializers.CharField(max_length=64)
    area_code = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False)
    address = serializers.CharField(max_length=200, required=False)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    reported_at = serializers.DateTimeField(required=False)
    answers = serializers.DictField(required=False)


class IntakeCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()


class IntakeAnswerSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=DeliveryOutcome.choices)
    message = serializers.CharField()
    case = IntakeCaseSerializer(allow_null=True)
    review = serializers.IntegerField(allow_null=True)


class ReviewSerializer(ModelSerializer):
    system = serializers.CharField(source="system.name", read_only=True)
    problems = serializers.SerializerMethodField()
    case_fields = serializers.SerializerMethodField()

    class Meta:
        model = IntakeReview
        fields = (
            "id",
            "system",
            "external_id",
            "case_fields",
            "problems",
            "community",
            "state",
            "case",
            "note",
            "created_at",
            "decided_at",
        )
        read_only_fields = fields

    def get_problems(self, review) -> list[str]:
        return [describe_problem(p) for p in review.problems]

    def get_case_fields(self, review) -> dict:
        return dict((review.payload or {}).get("case") or {})


class ResolveSerializer(serializers.Serializer):
    template = serializers.PrimaryKeyRelatedField(
        queryset=CaseTemplate.objects.filter(is_active=True)
    )
    community = serializers.PrimaryKeyRelatedField(queryset=Area.objects.communities())
    remember = serializers.BooleanField(
        default=False, help_text=_("Save their codes' mappings for the next delivery.")
    )


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
