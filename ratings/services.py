"""Rating a department's part in a case; the last rating closes the case."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from audit import services as audit
from cases import permissions
from cases.choices import CaseState, EventKind
from cases.models import Case
from cases.services import _sync, close_case_if_rated, record_events, state_label
from core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from ratings.models import Criterion, MonthFigure, PublishedMonth, Rating, Score

#: The scale of every criterion's score: whole numbers from SCORE_MIN to SCORE_MAX.
SCORE_MIN, SCORE_MAX = 0, 100


def weighted_overall(scores: dict[Criterion, int]) -> Decimal:
    """Weighted mean of the scores, to two decimals."""
    total_weight = sum((c.weight for c in scores), Decimal(0))
    weighted = sum((c.weight * Decimal(s) for c, s in scores.items()), Decimal(0))
    return (weighted / total_weight).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _clean_scores(raw: Any, criteria: list[Criterion] | None = None) -> dict[Criterion, int]:
    """Map every active criterion to an integer 0–100, or raise with every problem.

    ``criteria``: the active criteria when the caller has read them already.
    """
    if not isinstance(raw, dict):
        raise ValidationFailed(
            _("Scores must map criteria to numbers."), fields={"scores": [_("Expected an object.")]}
        )
    if criteria is None:
        criteria = list(Criterion.objects.active())
    by_key: dict[str, Criterion] = {}
    for c in criteria:
        by_key[c.code] = c
        by_key[str(c.pk)] = c
    errors: dict[str, list[str]] = {}
    cleaned: dict[Criterion, int] = {}
    for key, value in raw.items():
        criterion = by_key.get(str(key.code if isinstance(key, Criterion) else key))
        if criterion is None:
            errors[str(key)] = [_("No such active criterion.")]
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not SCORE_MIN <= value <= SCORE_MAX
        ):
            errors[criterion.code] = [_("Give a whole number from 0 to 100.")]
            continue
        cleaned[criterion] = value
    for c in criteria:
        if c not in cleaned and c.code not in errors:
            errors[c.code] = [_("%(name)s needs a score.") % {"name": c.name}]
    if not criteria:
        errors["scores"] = [_("No rating criteria are configured.")]
    if errors:
        raise ValidationFailed(_("The scores are not valid."), fields=errors)
    return cleaned


def check_may_rate(case: Case, actor) -> None:
    """``rate_department``'s guard: a case pending rating, rated by its caller.

    Raises ``InvalidTransition`` (state) or ``PermissionDenied``.
    """
    if case.state != CaseState.PENDING_RATING:
        raise InvalidTransition(
            _("Case %(number)s cannot be rated: it is %(state)s.")
            % {"number": case.number, "state": state_label(case.state)}
        )
    if not permissions.can_rate(case, actor):
        raise PermissionDenied(_("Only the caller may rate the departments of this case."))


@transaction.atomic
def rate_department(case: Case, *, actor, department, scores: Any, comment: str = "") -> Rating:
    """Rate one participating department of a completed case (by its caller).

    The rating stores no rater. When it is the last department to be rated,
    the case closes in the same transaction. ``rate_departments`` with one item.
    """
    return rate_departments(
        case, actor=actor, items=[{"department": department, "scores": scores, "comment": comment}]
    )[0]


@transaction.atomic
def rate_departments(case: Case, *, actor, items: Sequence[dict[str, Any]]) -> list[Rating]:
    """Rate several participating departments of a completed case at once (by its caller).

    ``items``: dicts with ``department``, ``scores`` (criterion code or id → 0–100) and
    optional ``comment``. All or none: the first invalid item raises (``ValidationFailed``
    for a department that took no part or bad scores, ``Conflict`` for one already rated,
    ``InvalidTransition``/``PermissionDenied`` from ``check_may_rate``) and nothing is
    kept. One case lock, one read each of the participating departments, the ratings
    already given and the criteria, whatever the number of items; the case closes once
    its last department is rated. Returns the ratings, in the order of ``items``.
    """
    locked = (
        Case.objects.select_for_update(of=("self",))
        .select_related("community", "template")  # read with it for the closing step
        .get(pk=case.pk)
    )
    check_may_rate(locked, actor)
    participating = set(locked.participating_departments().values_list("pk", flat=True))
    rated = set(Rating.objects.filter(case=locked).values_list("department_id", flat=True))
    criteria: list[Criterion] | None = None
    ratings: list[Rating] = []
    scores: list[Score] = []
    for item in items:
        department = item["department"]
        if department.pk not in participating:
            raise ValidationFailed(
                _("%(department)s did not take part in this case.") % {"department": department},
                fields={"department": [_("Not a participating department.")]},
            )
        if department.pk in rated:
            raise Conflict(
                _("%(department)s has already been rated for this case.")
                % {"department": department}
            )
        if criteria is None:
            criteria = list(Criterion.objects.active())
        cleaned = _clean_scores(item["scores"], criteria)
        rating = Rating(
            case=locked,
            department=department,
            overall=weighted_overall(cleaned),
            comment=(item.get("comment") or "").strip(),
        )
        scores += [Score(rating=rating, criterion=c, score=s) for c, s in cleaned.items()]
        rated.add(department.pk)
        ratings.append(rating)
    # One INSERT each for the ratings, their scores and their events (with the events'
    # audit records: ``record_events``).
    Rating.objects.bulk_create(ratings)
    for score in scores:
        score.rating_id = score.rating.pk
    Score.objects.bulk_create(scores)
    # The event names the department, not the rater: the actor stays empty.
    record_events(
        locked,
        [
            {"kind": EventKind.RATED, "actor": None, "data": {"department": r.department.name}}
            for r in ratings
        ],
    )
    # Every participating department rated now: the case closes (the sets just read and
    # written answer the close's condition; the case is already locked).
    close_case_if_rated(
        locked, actor=None, all_rated=bool(participating) and participating <= rated
    )
    _sync(case, locked)
    return ratings


def publish_month(month: date) -> PublishedMonth:
    """Fix the rating figures of the ended calendar ``month`` (any day of it), once.

    Writes one ``MonthFigure`` per department rated in the month (count, sum
    of overall scores, per criterion sum and number of scores), from the
    ratings whose rating time falls in the month, local time. A month already
    published is returned untouched: its figures never change again, whatever
    happens to its ratings later. Safe to call concurrently.
    Raises ``ValueError`` for a month that has not ended.
    """
    from ratings.selectors import has_ended

    month = month.replace(day=1)
    existing = PublishedMonth.objects.filter(pk=month).first()
    if existing is not None:
        return existing
    if not has_ended(month):
        raise ValueError(f"{month:%Y-%m} has not ended")
    try:
        with transaction.atomic():
            published = PublishedMonth.objects.create(month=month)
            figures = _write_month_figures(published)
            audit.record(
                "ratings.month_published",
                obj=published,
                details={"departments": len(figures), "ratings": sum(f.count for f in figures)},
            )
    except IntegrityError:  # published meanwhile by another request
        return PublishedMonth.objects.get(pk=month)
    return published


def _write_month_figures(published: PublishedMonth) -> list[MonthFigure]:
    from ratings.selectors import month_bounds

    start, end = month_bounds(published.month)
    ratings = Rating.objects.filter(created_at__gte=start, created_at__lt=end)
    scores: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    for row in (
        Score.objects.filter(rating__in=ratings)
        .order_by()
        .values("rating__department_id", "criterion_id")
        .annotate(total=Sum("score"), n=Count("pk"))
    ):
        scores[row["rating__department_id"]][str(row["criterion_id"])] = {
            "sum": int(row["total"]),
            "n": row["n"],
        }
    return MonthFigure.objects.bulk_create(
        MonthFigure(
            month=published,
            department_id=row["department_id"],
            count=row["n"],
            overall_sum=row["total"],
            scores=scores.get(row["department_id"], {}),
        )
        for row in ratings.order_by()
        .values("department_id")
        .annotate(n=Count("pk"), total=Sum("overall"))
    )
