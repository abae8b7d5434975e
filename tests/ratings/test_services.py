"""Rating departments: who, when, how scores combine, and that nobody is named."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cases.choices import CaseState, EventKind
from core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from ratings.models import Criterion, Rating
from ratings.services import rate_department

pytestmark = pytest.mark.django_db
GOOD = {"result": 100, "conduct": 90}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_caller_rates_each_department_and_the_last_closes_the_case(world, case_in):
    case = case_in("pending_rating")
    rate_department(
        case, actor=world.official, department=world.dept_a, scores=GOOD, comment="及时"
    )
    assert case.state == CaseState.PENDING_RATING
    rate_department(case, actor=world.official, department=world.dept_b, scores=GOOD)
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closed_at
    assert case.events.filter(kind=EventKind.CLOSED).count() == 1
    assert Rating.objects.get(case=case, department=world.dept_a).overall == Decimal("95.00")


def test_overall_is_the_weighted_mean(world, case_in):
    Criterion.objects.filter(code="result").update(weight=2)
    case = case_in("pending_rating")
    rating = rate_department(
        case, actor=world.official, department=world.dept_a, scores={"result": 90, "conduct": 60}
    )
    assert rating.overall == Decimal("80.00")


@pytest.mark.parametrize("state", ["draft", "dispatched", "in_progress", "closed", "cancelled"])
def test_only_completed_cases_are_rated(world, case_in, state):
    case = case_in(state)
    with pytest.raises(InvalidTransition):
        rate_department(case, actor=world.superuser, department=world.dept_a, scores=GOOD)


@pytest.mark.parametrize(
    "role", ["other_official", "commander", "staff_a", "head_a", "auditor", "stranger"]
)
def test_only_the_caller_rates(world, case_in, role):
    case = case_in("pending_rating")
    with pytest.raises(PermissionDenied):
        rate_department(case, actor=getattr(world, role), department=world.dept_a, scores=GOOD)
    assert not Rating.objects.exists()


def test_only_participating_departments_once_each(world, case_in):
    case = case_in("pending_rating", invite=("staff_a",))
    with pytest.raises(ValidationFailed):
        rate_department(case, actor=world.official, department=world.dept_b, scores=GOOD)
    rate_department(case, actor=world.official, department=world.dept_a, scores=GOOD)
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED


def test_rating_twice_is_a_conflict(world, case_in):
    case = case_in("pending_rating")
    rate_department(case, actor=world.official, department=world.dept_a, scores=GOOD)
    with pytest.raises(Conflict):
        rate_department(case, actor=world.official, department=world.dept_a, scores=GOOD)


@pytest.mark.parametrize(
    "scores",
    [
        {"result": 100},
        {"result": 101, "conduct": 90},
        {"result": -1, "conduct": 90},
        {"result": "九十", "conduct": 90},
        {"result": 90.5, "conduct": 90},
        {"result": True, "conduct": 90},
        {"result": 90, "conduct": 90, "speed": 80},
        "90",
    ],
)
def test_bad_scores_are_refused_and_nothing_is_saved(world, case_in, scores):
    case = case_in("pending_rating")
    with pytest.raises(ValidationFailed):
        rate_department(case, actor=world.official, department=world.dept_a, scores=scores)
    assert not Rating.objects.exists()


def test_no_rater_is_stored_anywhere(world, case_in):
    user_model = type(world.official)
    for model in (Rating, Rating.scores.rel.related_model):
        related = [
            f for f in model._meta.get_fields() if f.is_relation and f.related_model is user_model
        ]
        assert related == [], model
    case = case_in("closed")
    assert case.events.filter(kind=EventKind.RATED).count() == 2  # both departments were rated
    assert not case.events.filter(kind=EventKind.RATED).exclude(actor=None).exists()


# ---------------------------------------------------------------- publishing months


def _rated_on(case_in, when, result: int) -> Rating:
    rating = Rating.objects.get(case=case_in("closed", invite=("staff_a",)))
    rating.scores.filter(criterion__code="result").update(score=result)
    Rating.objects.filter(pk=rating.pk).update(created_at=when, overall=Decimal(result + 90) / 2)
    return rating


def test_an_ended_month_is_published_once_and_then_never_moves(world, case_in):
    from audit.models import AuditRecord
    from ratings.models import MonthFigure
    from ratings.services import publish_month

    march = datetime(2025, 3, 31, 23, 30, tzinfo=SHANGHAI)  # still March in Shanghai
    for result in (60, 70):
        _rated_on(case_in, march, result)
    _rated_on(case_in, datetime(2025, 4, 1, 0, 10, tzinfo=SHANGHAI), 10)  # April already
    publish_month(date(2025, 3, 15))
    figure = MonthFigure.objects.get(month=date(2025, 3, 1), department=world.dept_a)
    result_id = str(Criterion.objects.get(code="result").pk)
    assert (figure.count, figure.overall_sum) == (2, Decimal("155.00"))
    assert figure.scores[result_id] == {"sum": 130, "n": 2}
    assert AuditRecord.objects.filter(action="ratings.month_published").count() == 1

    _rated_on(case_in, march, 0)  # a late change to a published month
    Rating.objects.filter(scores__score=60).delete()
    publish_month(date(2025, 3, 1))
    figure.refresh_from_db()
    assert (figure.count, figure.overall_sum) == (2, Decimal("155.00"))
    assert MonthFigure.objects.filter(month=date(2025, 3, 1)).count() == 1


def test_a_month_in_progress_is_not_published(world, case_in):
    from django.utils import timezone

    from ratings.services import publish_month

    with pytest.raises(ValueError):
        publish_month(timezone.localdate())
