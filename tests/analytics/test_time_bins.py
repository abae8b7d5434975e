"""The daily time bins (``TimeDay``): exact percentiles and histograms without a scan.

A percentile of the district or a town is found in its bin by the bins' counts,
then read at its rank among that bin's cases only; a histogram is the bins
regrouped. Both must give exactly what a scan of every case gives.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics import facts, selectors
from analytics.functions import binned_percentiles, percentiles
from analytics.models import TimeDay
from analytics.selectors import BIN_WIDTHS, HANDLING, HISTOGRAM_BINS, RESPONSE
from cases.models import Case
from tests.analytics.test_exact_figures import PERIOD, _times
from tests.analytics.test_stale_days import _close_to
from tests.api.client import as_user

pytestmark = pytest.mark.django_db


def _start(seconds: float) -> int:
    """The bin of a time, by the definition (a minute below 6 h, an hour above)."""
    width = 60 if seconds < 6 * 3600 else 3600
    return math.floor(seconds / width) * width


def _bins(values) -> list[tuple[int, int, int]]:
    counted = Counter(_start(v) for v in values)
    return [
        (start, start + (60 if start < 6 * 3600 else 3600), n)
        for start, n in sorted(counted.items())
    ]


def test_every_histogram_edge_is_an_edge_of_the_daily_bins():
    """Else a histogram could not be regrouped from the bins without splitting one."""
    for width in BIN_WIDTHS:
        for i in range(1, HISTOGRAM_BINS):
            edge = i * width
            assert edge % 3600 == 0 or (edge < 6 * 3600 and edge % 60 == 0), (width, i)


def test_the_rebuild_counts_each_case_in_its_bin(world, spread):
    response, handling = _times(None)
    assert any(t >= 6 * 3600 for t in handling) and all(t < 6 * 3600 for t in response)
    facts.refresh_all()
    for time, values in (("response", response), ("handling", handling)):
        for whole_month in (False, True):  # the day rows, and March's roll-up
            stored: Counter = Counter()
            for row in TimeDay.objects.filter(time=time, whole_month=whole_month):
                stored[row.start] += row.cases
            assert sorted(stored.items()) == [(s, n) for s, _e, n in _bins(values)], time


@pytest.mark.parametrize("take", [1, 2, 3, 10, None])
def test_a_percentile_read_in_its_bin_is_percentile_cont(world, spread, take):
    """``binned_percentiles`` gives the very doubles of ``percentiles`` (percentile_cont;
    SQLite: its own ranks), at both ends and where a rank's pair spans two bins."""
    cases = Case.objects.exclude(state="draft")
    if take is not None:
        cases = cases.filter(pk__in=list(cases.order_by("pk").values_list("pk", flat=True)[:take]))
    fractions = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0]
    for expression in (RESPONSE, HANDLING):
        values = [
            v for v in cases.annotate(v=expression).values_list("v", flat=True) if v is not None
        ]
        found = binned_percentiles(cases, expression, _bins(values), fractions)
        assert found == percentiles(cases, expression, fractions)


def test_bins_that_do_not_count_the_cases_are_refused(world, spread):
    """A count that disagrees with the cases must not give a plausible wrong figure."""
    cases = Case.objects.exclude(state="draft")
    values = [v for v in cases.annotate(v=RESPONSE).values_list("v", flat=True) if v is not None]
    bins = _bins(values)
    start, end, n = bins[-1]
    with pytest.raises(ValueError):
        binned_percentiles(cases, RESPONSE, [*bins[:-1], (start, end, n + 5)], [1.0])


@pytest.mark.parametrize("area", ["district", "town"])
def test_the_daily_distributions_read_no_case_beyond_the_percentiles_bins(
    world, spread, monkeypatch, area
):
    """The district's and a town's histograms come from the bins; the cases are read only
    by bounded reads inside a percentile's bin (each with its LIMIT), never scanned whole.
    The same figures as the scan of every case."""
    scope_area = spread[area]
    query = {**PERIOD, **({"area": scope_area.pk} if scope_area else {})}
    url = reverse("api:analytics-distributions")
    with CaptureQueriesContext(connection) as queries:
        response = as_user(world.auditor).get(url, query)
    assert response.status_code == 200, response.content
    scans = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "cases_case"' in q["sql"]
        and 'completed_at" IS NULL' not in q["sql"]  # the open cases past their deadline
        and "LIMIT" not in q["sql"]  # not the pair read at its rank inside its bin
    ]
    assert scans == []
    monkeypatch.setattr(selectors, "USE_DAILY", False)
    live = as_user(world.auditor).get(url, query)
    assert response.json()["data"] == _close_to(live.json()["data"])


def test_bins_that_disagree_with_the_cases_fall_back_to_the_exact_read(
    world, spread, monkeypatch, caplog
):
    """A change no mark reached must not turn into an error page or a wrong median: the
    percentiles are then read from every case, and the disagreement is logged."""
    facts.refresh_all()
    TimeDay.objects.filter(time="response").update(cases=1)
    url = reverse("api:analytics-overview")
    daily = as_user(world.auditor).get(url, PERIOD)
    assert daily.status_code == 200
    assert "analytics.bins_disagree" in caplog.text
    monkeypatch.setattr(selectors, "USE_DAILY", False)
    live = as_user(world.auditor).get(url, PERIOD).json()["data"]
    assert daily.json()["data"]["response_median"] == live["response_median"]
