"""Shapes of the intake API (documentation for the city platform; parsing is in services)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from integrations.choices import DeliveryOutcome
from templates.choices import Priority


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
