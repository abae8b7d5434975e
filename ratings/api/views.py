"""The rating criteria, for the phone's rating screen."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, viewsets

from core.api.serializers import ModelSerializer
from ratings.models import Criterion
from ratings.services import SCORE_MAX, SCORE_MIN


class CriterionSerializer(ModelSerializer):
    """One criterion: ``code`` is the key of ``scores`` in ``POST cases/{id}/ratings/``."""

    label = serializers.CharField(source="name", read_only=True, help_text=_("Its name, shown."))
    order = serializers.IntegerField(
        source="position", read_only=True, help_text=_("Smaller first.")
    )
    weight = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    min = serializers.SerializerMethodField()
    max = serializers.SerializerMethodField()

    class Meta:
        model = Criterion
        fields = ("code", "label", "order", "weight", "min", "max")
        read_only_fields = fields

    def get_min(self, criterion: Criterion) -> int:
        """The lowest score (a whole number)."""
        return SCORE_MIN

    def get_max(self, criterion: Criterion) -> int:
        """The highest score (a whole number)."""
        return SCORE_MAX


class CriterionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The active rating criteria in their order, to every logged-in person (not paginated).

    A rating (``POST cases/{id}/ratings/``) gives each department a score for
    every one of them, a whole number from ``min`` to ``max``; the overall
    score is their mean weighted by ``weight``.
    """

    serializer_class = CriterionSerializer
    pagination_class = None
    filter_backends: list = []
    queryset = Criterion.objects.active().order_by("position", "code")
