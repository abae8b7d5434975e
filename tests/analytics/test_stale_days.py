"""A period holding stale days: fresh days from the daily figures, stale days from their cases.

Before, one stale day sent the whole period to a live scan of every case (8–9 s
for the departments at 44,000 cases). Now the fresh days are summed from the
table and each stale day's rows are computed from its cases
(``analytics.facts.rows_for``): the sums must be exactly those of the all-live
read, and those the rebuild then writes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from analytics import facts, selectors
from analytics.models import StaleDay
from cases.models import Case
from tests.analytics.conftest import T0
from tests.analytics.test_exact_figures import PERIOD
from tests.analytics.test_freshness import _close_case_c
from tests.api.client import as_user

pytestmark = pytest.mark.django_db

INDICATORS = [
    ("overview", {}),
    ("categories", {"bucket": "day"}),
    ("categories", {"bucket": "week"}),
    ("categories", {"bucket": "month"}),
    ("areas", {}),
    ("timeliness", {}),
    ("distributions", {}),
    ("departments", {}),
    ("template-suggestions", {}),
    ("trend", {"bucket": "day"}),
    ("trend", {"bucket": "month"}),
    ("map", {"level": "community", "indicator": "mean_response"}),
    ("map", {"level": "grid", "indicator": "overdue_share"}),
]


def _make_two_days_stale() -> None:
    """Case C of the sample closed (day T0) and a spread case moved (day T0 + 5): two saves,
    in the test's transaction, so their marks stay and no rebuild runs."""
    _close_case_c()
    moved = Case.objects.get(number="X-5")
    moved.completed_at = moved.first_accepted_at + timedelta(hours=1)
    moved.save()
    assert set(StaleDay.objects.values_list("day", flat=True)) == {
        T0.date(),
        (T0 + timedelta(days=5)).date(),
    }


def _read(user, name, params, area):
    query = {**PERIOD, **params, **({"area": area.pk} if area is not None else {})}
    response = as_user(user).get(reverse(f"api:analytics-{name}"), query)
    assert response.status_code == 200, response.content
    return response.json()["data"]


@pytest.mark.parametrize("scope", ["district", "town"])
@pytest.mark.parametrize(
    ("name", "params"), INDICATORS, ids=[f"{n} {' '.join(p.values())}" for n, p in INDICATORS]
)
def test_fresh_days_plus_stale_days_equal_the_all_live_read(
    world, sample, spread, settings, monkeypatch, scope, name, params
):
    settings.JINSHAO_RATING_MIN_GROUP = 2
    monkeypatch.setattr(selectors, "SUGGESTION_MIN_CASES", 2)
    area = spread[scope]
    facts.refresh_stale()
    _make_two_days_stale()
    mixed = _read(world.auditor, name, params, area)
    assert StaleDay.objects.count() == 2  # the read rebuilt nothing
    monkeypatch.setattr(selectors, "USE_DAILY", False)
    live = _read(world.auditor, name, params, area)
    assert mixed == _close_to(live)


def _close_to(value):
    """``value`` with each float as ``pytest.approx`` to 1e-12 relative: sums of the same
    microsecond times added in another order (per day, then the days) may differ in the
    last bit of a double, far below any digit shown."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-12)
    if isinstance(value, dict):
        return {k: _close_to(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_close_to(v) for v in value]
    return value


def test_a_stale_days_computed_rows_are_the_rows_its_rebuild_writes(world, sample, spread):
    facts.refresh_stale()
    _make_two_days_stale()
    days = sorted(StaleDay.objects.values_list("day", flat=True))

    def shape(rows):
        """Each row's columns but its id, in a set order (by repr: a None town sorts too)."""
        return sorted(
            (
                tuple(
                    (f.attname, getattr(row, f.attname))
                    for f in row._meta.concrete_fields
                    if f.attname != "id"
                )
                for row in rows
            ),
            key=repr,
        )

    computed = {model: shape(facts.rows_for(model, days)) for model in facts.FACTS}
    facts.refresh_stale()
    for model in facts.FACTS:
        assert computed[model] == shape(model.objects.filter(whole_month=False, day__in=days)), (
            model.__name__
        )
