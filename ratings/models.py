"""Rating criteria and anonymous ratings of departments.

A rating names the case and the department, never the person who rated: there
is no rater column, so no query, export or admin page can reveal one.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.selectors import has_role
from cases.models import CaseOwnedQuerySet
from grids.models import code_validator


class CriterionQuerySet(models.QuerySet):
    def active(self) -> CriterionQuerySet:
        return self.filter(is_active=True)


class Criterion(models.Model):
    """What a department is rated on (by default 办理结果 and 工作作风)."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=64)
    weight = models.DecimalField(
        _("weight"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = CriterionQuerySet.as_manager()

    class Meta:
        verbose_name = _("rating criterion")
        verbose_name_plural = _("rating criteria")
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(name="criterion_weight_positive", condition=Q(weight__gt=0))
        ]

    def __str__(self) -> str:
        return self.name


class RatingQuerySet(CaseOwnedQuerySet):
    def visible_to(self, user) -> models.QuerySet:
        """Ratings one by one (``cases.permissions.can_read_ratings``): superusers and
        auditors, and each case's own caller; of the cases they may read."""
        rows = super().visible_to(user)
        if not (user and user.is_authenticated):
            return rows  # none
        if user.is_superuser or has_role(user, Role.AUDITOR):
            return rows
        return rows.filter(case__caller=user)


class ScoreQuerySet(CaseOwnedQuerySet):
    case_path = "rating__case"

    def visible_to(self, user) -> models.QuerySet:
        """The scores of the ratings ``user`` may read."""
        return self.filter(rating__in=Rating.objects.visible_to(user).values("pk"))


class Rating(models.Model):
    """The caller's verdict on one department's part in one case (anonymous)."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="ratings", verbose_name=_("case")
    )
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        related_name="ratings",
        verbose_name=_("department"),
    )
    overall = models.DecimalField(
        _("overall score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Weighted mean of the criterion scores."),
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated at"), default=timezone.now, db_index=True)

    objects = RatingQuerySet.as_manager()

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "department"], name="one_rating_per_department"
            ),
            models.CheckConstraint(
                name="rating_overall_range", condition=Q(overall__gte=0, overall__lte=100)
            ),
        ]
        indexes = [
            models.Index(fields=["department", "created_at"], name="rating_department_created")
        ]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.department}"


class Score(models.Model):
    """One criterion's score within a rating, 0–100."""

    rating = models.ForeignKey(
        Rating, on_delete=models.CASCADE, related_name="scores", verbose_name=_("rating")
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="scores", verbose_name=_("criterion")
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )

    objects = ScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        ordering = ["rating_id", "criterion__position"]
        constraints = [
            models.UniqueConstraint(fields=["rating", "criterion"], name="one_score_per_criterion"),
            models.CheckConstraint(name="score_range", condition=Q(score__gte=0, score__lte=100)),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.score}"


class PublishedMonth(models.Model):
    """A calendar month (Asia/Shanghai) whose rating figures were fixed after it ended.

    Written once, by ``ratings.services.publish_month``, together with one
    ``MonthFigure`` per department rated in the month; never recomputed, so a
    rating added, changed or deleted later cannot move a published figure.
    """

    month = models.DateField(_("month"), primary_key=True, help_text=_("Its first day."))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)

    class Meta:
        verbose_name = _("published rating month")
        verbose_name_plural = _("published rating months")
        ordering = ["month"]
        constraints = [
            models.CheckConstraint(name="published_month_first_day", condition=Q(month__day=1))
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class MonthFigure(models.Model):
    """One department's ratings of one published month, as sums (frozen).

    ``scores`` maps a criterion id (as text) to ``{"sum": int, "n": int}``.
    Means are derived from the sums only where enough ratings stand behind
    them (``ratings.selectors``): this row itself is never shown.
    """

    month = models.ForeignKey(
        PublishedMonth, on_delete=models.CASCADE, related_name="figures", verbose_name=_("month")
    )
    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.PROTECT,
        related_name="rating_months",
        verbose_name=_("department"),
    )
    count = models.PositiveIntegerField(_("ratings"))
    overall_sum = models.DecimalField(_("sum of overall scores"), max_digits=14, decimal_places=2)
    scores = models.JSONField(_("criterion sums"), default=dict)

    class Meta:
        verbose_name = _("monthly rating figure")
        verbose_name_plural = _("monthly rating figures")
        ordering = ["month", "department_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "department"], name="one_figure_per_department_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month_id:%Y-%m} · {self.department_id}"
