"""Rating a department's part in a case; the last rating closes the case."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cases import permissions
from cases.choices import CaseState, EventKind
from cases.models import Case
from cases.services import close_case_if_rated, record_event, state_label
from core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from ratings.models import Criterion, Rating, Score


def weighted_overall(scores: dict[Criterion, int]) -> Decimal:
    """Weighted mean of the scores, to two decimals."""
    total_weight = sum((c.weight for c in scores), Decimal(0))
    weighted = sum((c.weight * Decimal(s) for c, s in scores.items()), Decimal(0))
    return (weighted / total_weight).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _clean_scores(raw: Any) -> dict[Criterion, int]:
    """Map every active criterion to an integer 0–100, or raise with every problem."""
    if not isinstance(raw, dict):
        raise ValidationFailed(
            _("Scores must map criteria to numbers."), fields={"scores": [_("Expected an object.")]}
        )
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
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
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


@transaction.atomic
def rate_department(case: Case, *, actor, department, scores: Any, comment: str = "") -> Rating:
    """Rate one participating department of a completed case (by its caller).

    The rating stores no rater. When it is the last department to be rated,
    the case closes in the same transaction.
    """
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.state != CaseState.PENDING_RATING:
        raise InvalidTransition(
            _("Case %(number)s cannot be rated: it is %(state)s.")
            % {"number": locked.number, "state": state_label(locked.state)}
        )
    if not permissions.can_rate(locked, actor):
        raise PermissionDenied(_("Only the caller may rate the departments of this case."))
    if not locked.participating_departments().filter(pk=department.pk).exists():
        raise ValidationFailed(
            _("%(department)s did not take part in this case.") % {"department": department},
            fields={"department": [_("Not a participating department.")]},
        )
    if Rating.objects.filter(case=locked, department=department).exists():
        raise Conflict(
            _("%(department)s has already been rated for this case.") % {"department": department}
        )
    cleaned = _clean_scores(scores)
    rating = Rating.objects.create(
        case=locked,
        department=department,
        overall=weighted_overall(cleaned),
        comment=(comment or "").strip(),
    )
    Score.objects.bulk_create(
        Score(rating=rating, criterion=c, score=s) for c, s in cleaned.items()
    )
    # The event names the department, not the rater: the actor stays empty.
    record_event(locked, EventKind.RATED, actor=None, data={"department": department.name})
    close_case_if_rated(locked, actor=None)
    case.refresh_from_db()
    return rating
