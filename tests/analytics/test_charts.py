"""The leaders' charts: trend, time distributions, their xlsx, scoping, and figures rounded once.

The sample (conftest): A responded in 10 min and handled in 110 min, B in
30 min and 210 min (late), C in 20 min and still open past its deadline,
D cancelled, E a draft; all raised on 2 March 2026.
"""

from __future__ import annotations

import io
import statistics
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from cases.models import Case
from grids.choices import AreaLevel
from tests.analytics.conftest import T0
from tests.api.client import as_user
from tests.factories import CategoryFactory, make_area

pytestmark = pytest.mark.django_db
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def _get(user, name, **params):
    return as_user(user).get(reverse(f"api:analytics-{name}"), {**MARCH, **params})


def _xlsx(user, chart, **params):
    response = as_user(user).get(
        reverse("api:analytics-chart-export", args=[chart]), {**MARCH, **params}
    )
    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    body = b"".join(response.streaming_content)
    assert body[:2] == b"PK"  # a zip: what a spreadsheet program opens
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_trend_counts_raised_closed_and_overdue_per_period(world, sample):
    for bucket, period in (("month", "2026-03-01"), ("week", "2026-03-02"), ("day", "2026-03-02")):
        body = _get(world.leader, "trend", bucket=bucket).json()
        assert body["data"] == [{"period": period, "raised": 4, "closed": 2, "overdue": 2}], bucket
    overview = _get(world.leader, "overview").json()["data"]
    timeliness = _get(world.leader, "timeliness").json()["data"]
    assert (overview["raised"], overview["closed"], timeliness["overdue"]) == (4, 2, 2)


def test_distributions_are_histograms_with_exact_median_and_p90(world, sample):
    data = _get(world.grid_leader, "distributions").json()["data"]
    response, handling = data["response"], data["handling"]
    # responses 600, 1200, 1800 s: type 7 p90 = 1200 + 0.8 × 600
    assert (response["n"], response["p50"], response["p90"], response["mean"]) == (
        3,
        1200.0,
        1680.0,
        1200.0,
    )
    assert response["unit"] == "minute" and response["width"] == 300  # the first width ≥ 1680/8
    assert [b["cases"] for b in response["bins"]] == [0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0]
    assert response["bins"][2] == {"start": 600, "end": 900, "cases": 1}
    assert response["bins"][-1]["end"] is None  # the open tail
    # handling 6600 and 12600 s
    assert (handling["n"], handling["p50"], handling["p90"]) == (2, 9600.0, 12000.0)
    assert handling["unit"] == "hour" and handling["width"] == 1800
    assert [i for i, b in enumerate(handling["bins"]) if b["cases"]] == [3, 7]
    assert sum(b["cases"] for b in handling["bins"]) == handling["n"]


def test_the_long_tail_lands_in_the_open_last_bin(world):
    category = CategoryFactory(name="噪音扰民")
    for n, seconds in enumerate([60] * 9 + [10**6]):
        Case.objects.create(
            number=f"L-{n}",
            title="案件",
            community=world.community,
            category=category,
            caller=world.official,
            created_at=T0,
            state="in_progress",
            dispatched_at=T0,
            first_accepted_at=T0 + timedelta(seconds=seconds),
        )
    response = _get(world.auditor, "distributions").json()["data"]["response"]
    # p90 = 60 + 0.1 × (10⁶ − 60) ≈ 100,054 s: the first width ≥ p90 / 8 is 4 h
    assert response["width"] == 14400
    assert response["bins"][0]["cases"] == 9 and response["bins"][-1]["cases"] == 1


def test_departments_carry_acceptance_decline_and_return_rates(world, sample):
    sample.a.invitations.filter(department=world.dept_b).update(state="returned")
    rows = {r["name"]: r for r in _get(world.leader, "departments").json()["data"]}
    water = rows["水务局"]  # invited to A (now returned) and C (accepted)
    assert (water["invited"], water["accepted"], water["declined"], water["returned"]) == (
        2,
        1,
        0,
        1,
    )
    assert (water["acceptance_rate"], water["return_rate"], water["decline_rate"]) == (
        0.5,
        0.5,
        0.0,
    )


@pytest.mark.parametrize(
    ("name", "params"),
    [("trend", {}), ("distributions", {})],
)
def test_the_new_endpoints_are_scoped_like_the_others(world, sample, name, params):
    town2 = make_area(AreaLevel.TOWN, world.district, code="310120102", name="奉城镇")
    assert _get(world.leader, name, **params).status_code == 200
    assert _get(world.leader, name, area=town2.pk).status_code == 403  # not the leader's town
    assert _get(world.commander, name, area=world.town.pk).status_code == 403  # above his grid
    assert _get(world.staff_a, name).status_code == 403  # no indicators at all
    assert as_user(None).get(reverse(f"api:analytics-{name}")).status_code in (401, 403)
    for chart in ("trend", "departments"):
        refused = as_user(world.leader).get(
            reverse("api:analytics-chart-export", args=[chart]), {"area": town2.pk}
        )
        assert refused.status_code == 403
    assert _get(world.leader, name, area=999999).status_code == 400


def test_grid_figures_leave_out_the_rest_of_the_town(world, sample):
    grid = _get(world.commander, "trend").json()  # his own grid by default
    assert grid["area"]["name"] == "南桥第一网格"
    assert grid["data"][0]["raised"] == 4  # A, B, C, D are all in the grid's two villages
    one = _get(world.commander, "trend", area=world.other_community.pk).json()["data"]
    assert one[0]["raised"] == 1  # B only


def test_chart_workbooks_open_with_chinese_headers_and_the_same_figures(world, sample):
    # Headers whose Chinese is in locale/ already are checked as Chinese; the new
    # msgids (/tmp/po-h3.txt until merged) through gettext, like the page shows them.
    rows = _xlsx(world.leader, "trend", bucket="month")
    assert rows[0] == [_("Period starting"), "发起案件", "已办结", "超时案件"]
    assert rows[1][1:] == [4, 2, 2]
    rows = _xlsx(world.leader, "distributions")
    assert rows[0] == [_(h) for h in ("Measure", "Row", "From", "To", "Unit", "Value")]
    response, handling, median = _("Response time"), _("Handling time"), _("Median")
    medians = {r[0]: r[5] for r in rows[1:] if r[1] == median}
    assert medians == {response: 20.0, handling: pytest.approx(9600 / 3600)}
    bins = [r for r in rows[1:] if r[0] == response and r[1] == _("Cases in the bin")]
    assert len(bins) == 12 and bins[2][2:] == [10, 15, _("minutes"), 1]
    rows = _xlsx(world.leader, "departments")
    assert rows[0][:3] == ["排名", "类别内排名", "部门"]
    assert {r[2] for r in rows[1:]} == {"城管执法局", "水务局"}
    rows = _xlsx(world.leader, "categories")
    assert rows[0][:2] == ["问题类别", "案件"]
    assert {r[0]: r[1] for r in rows[1:]} == {"占道经营": 2, "河道污染": 2}
    rows = _xlsx(world.commander, "areas")
    town, grid, village = _("Town"), _("Grid"), "村居"
    assert {(r[0], r[1]): r[2] for r in rows[1:]} == {
        (town, "南桥镇"): 4,
        (grid, "南桥第一网格"): 4,
        (village, "曙光村"): 3,
        (village, "华严村"): 1,
    }


# ---------------------------------------------------------------- rounded once


def _shown(value: Decimal, places: str = "0.1") -> str:
    """An independent rounding: Decimal, half up (no float touches the exact value)."""
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


@pytest.fixture
def tipping(world):
    """One case whose times sit just under a display boundary.

    Response 44.996 s = 0.74993 min, shown "0.7"; rounded first to 0.01 s it
    became 45.00 s = 0.75 min and was shown "0.8". Handling 2699.996 s =
    0.749999 h, shown "0.7"; 2700.00 s was shown "0.8".
    """
    category = CategoryFactory(name="占道经营")
    Case.objects.create(
        number="R-1",
        title="案件",
        community=world.community,
        category=category,
        caller=world.official,
        created_at=T0,
        state="closed",
        dispatched_at=T0,
        first_accepted_at=T0 + timedelta(seconds=44, microseconds=996000),
        completed_at=T0 + timedelta(seconds=44 + 2699, microseconds=996000 + 996000),
        deadline=T0 + timedelta(days=3),
    )


def _exact_seconds(sql_expression: str) -> Decimal:
    """The one case's time, computed by the database on its own (not through the selectors)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT dispatched_at, first_accepted_at, completed_at FROM cases_case"
            " WHERE number = %s",
            ["R-1"],
        )
        dispatched, accepted, completed = cursor.fetchone()
    if isinstance(dispatched, str):  # SQLite hands back text
        from django.utils.dateparse import parse_datetime

        dispatched, accepted, completed = map(parse_datetime, (dispatched, accepted, completed))
    delta = {"response": accepted - dispatched, "handling": completed - accepted}[sql_expression]
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6


def test_the_dashboard_rounds_each_time_once_from_the_exact_value(world, tipping, client):
    response, handling = _exact_seconds("response"), _exact_seconds("handling")
    assert (response, handling) == (Decimal("44.996"), Decimal("2699.996"))
    minutes, hours = _shown(response / 60), _shown(handling / 3600)
    assert (minutes, hours) == ("0.7", "0.7")  # rounded twice it was "0.8" and "0.8"
    world.auditor.is_staff = True
    world.auditor.save()
    client.force_login(world.auditor)
    page = client.get(reverse("analytics-dashboard"), MARCH)
    assert page.status_code == 200
    shown = page.context["shown"]
    for key in ("response_mean", "response_median", "response_p90"):
        assert shown[key] == minutes, key
    for key in ("handling_mean", "handling_median", "handling_p90"):
        assert shown[key] == hours, key
    html = page.content.decode()
    assert ">0.7<" in html and ">0.8<" not in html


def test_the_api_gives_the_exact_times_and_the_workbooks_round_them_once(world, tipping):
    overview = _get(world.auditor, "overview").json()["data"]
    assert overview["response_median"] == pytest.approx(44.996, abs=1e-9)
    assert overview["handling_median"] == pytest.approx(2699.996, abs=1e-9)
    distributions = _get(world.auditor, "distributions").json()["data"]
    assert distributions["response"]["p90"] == pytest.approx(44.996, abs=1e-9)
    # the daily figures (district, town) give the same exact value as the live ones (grid)
    town = _get(world.auditor, "overview", area=world.town.pk).json()["data"]
    grid = _get(world.auditor, "overview", area=world.grid.pk).json()["data"]
    assert town["response_mean"] == pytest.approx(grid["response_mean"], abs=1e-9)
    assert statistics.fmean([44.996]) == pytest.approx(overview["response_mean"], abs=1e-9)


# ---------------------------------------------------------------- the dashboard's charts


def test_the_dashboard_draws_echarts_from_embedded_figures(
    world, sample, client, settings, tmp_path
):
    """The page includes the build's dashboard entry (from its manifest, same origin) and
    embeds the figures as JSON: no inline script, no CSS bars."""
    (tmp_path / ".vite").mkdir()
    (tmp_path / ".vite" / "manifest.json").write_text(
        '{"src/dashboard.ts": {"file": "assets/dashboard-abc.js", "isEntry": true,'
        ' "imports": ["_options-x.js"]}, "_options-x.js": {"file": "assets/options-x.js",'
        ' "css": ["assets/options-x.css"]}}'
    )
    settings.JINSHAO_APP_DIR = tmp_path
    world.leader.is_staff = True
    world.leader.save()
    client.force_login(world.leader)
    page = client.get(reverse("analytics-dashboard"), MARCH)
    html = page.content.decode()
    assert '<script type="module" src="/assets/dashboard-abc.js"></script>' in html
    assert '<link rel="modulepreload" href="/assets/options-x.js">' in html
    assert '<link rel="stylesheet" href="/assets/options-x.css">' in html
    assert "jd-bar" not in html and "jd-trend" not in html
    figures = page.context["figures"]
    assert figures["trend"] == [
        {"period": __import__("datetime").date(2026, 3, 1), "raised": 4, "closed": 2, "overdue": 2}
    ]
    assert figures["places"]["level"] == "grid"  # the leader's town: its grids one level down
    assert [p["name"] for p in figures["places"]["rows"]] == ["南桥第一网格"]
    assert figures["distributions"]["response"]["p90"] == 1680.0
    assert figures["exports"]["trend"].startswith("/api/v1/analytics/trend/xlsx/?from=2026-03-01")
    assert 'id="jd-figures" type="application/json"' in html
    # every script on the page is a file from this site
    import re

    for tag in re.findall(r"<script[^>]*>", html):
        assert 'type="application/json"' in tag or 'src="/' in tag, tag
    # the department table's rate is from the counts, rounded once
    rows = {r["name"]: r["acceptance_percent"] for r in page.context["ranking"]}
    assert rows == {"城管执法局": "100.0%", "水务局": "50.0%"}


def test_without_a_build_the_dashboard_still_answers(world, sample, client, settings, tmp_path):
    settings.JINSHAO_APP_DIR = tmp_path
    client.force_login(world.superuser)
    page = client.get(reverse("analytics-dashboard"), MARCH)
    assert page.status_code == 200 and "/assets/dashboard" not in page.content.decode()
