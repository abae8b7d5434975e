"""The indicators (DESIGN.md definitions), each computed by the database for a ``Scope``.

Every figure here is the one the API, the dashboard and the exports show:
they all call these functions. Times are in seconds.
- response time = ``first_accepted_at − dispatched_at``: from the first dispatch to
  the first acceptance ever (a return and re-dispatch change neither);
- handling time = ``completed_at − first_accepted_at`` (a department's own:
  ``completed_at −`` its acceptance); docs/design-notes.md, "Response and handling";
- person-dispatches = invitations sent;
- closure rate = closed / (raised − cancelled);
- a case is overdue when it was completed after its deadline, or is still open
  past it;
- medians and percentiles are exact at every level (district, town, grid,
  community): ``percentile_cont`` over the per-case times of the scope, i.e.
  linear interpolation between the closest ranks (for n values sorted
  x_0 ≤ … ≤ x_{n−1}, percentile p is x_k + (x_{k+1} − x_k)·(r − k) with
  r = p·(n − 1), k = ⌊r⌋: Hyndman–Fan type 7, ``statistics.quantiles(...,
  method="inclusive")``, Excel's PERCENTILE.INC);
- times (means, medians, percentiles) are returned exact, in seconds, never
  rounded here: each place that shows one rounds it once, to the precision it
  shows (``analytics.admin_views``, the app's charts), so no figure is
  rounded twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta

from django.db.models import Avg, Count, F, IntegerField, Q, Sum, Value, When
from django.db.models import Case as DbCase
from django.db.models.functions import (
    Cast,
    Floor,
    Least,
    TruncDate,
    TruncDay,
    TruncMonth,
    TruncWeek,
)
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.functions import (
    Seconds,
    aggregate_with_percentiles,
    binned_percentiles,
    one_snapshot,
)
from analytics.models import CaseDay, DeclineDay, DepartmentDay, TemplateDay, TimeDay
from analytics.scope import Scope
from cases.choices import CaseState, InvitationState
from cases.models import Invitation
from core.dates import local_midnight
from departments.models import Department
from ratings import selectors as rating_figures
from ratings.models import Criterion
from templates.models import Category

logger = logging.getLogger(__name__)

RESPONSE = Seconds(F("first_accepted_at"), F("dispatched_at"))
HANDLING = Seconds(F("completed_at"), F("first_accepted_at"))
#: On an accepted invitation: from that department's acceptance to the completion.
DEPARTMENT_HANDLING = Seconds(F("case__completed_at"), F("responded_at"))
BUCKETS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
#: Fewest cases a template suggestion rests on, and the share of them a department must be in.
SUGGESTION_MIN_CASES = 5
SUGGESTION_MIN_SHARE = 0.5


#: What each headline figure measures: shown on the dashboard and in the API schema.
DEFINITIONS = {
    "raised": _("Cases raised: cases created in the period and area, drafts left out."),
    "closure_rate": _(
        "Closure rate: closed cases / (cases raised − cancelled), over the cases raised in"
        " the period, whenever they closed."
    ),
    "dispatches": _("Person-dispatches: invitations sent to department staff for those cases."),
    "response": _(
        "Response time (平均响应, median): per case, from its first dispatch to the first"
        " acceptance by any department; the mean and the median over the cases accepted."
    ),
    "handling": _(
        "Handling time: per case, from the first acceptance to the completion; over the"
        " cases completed."
    ),
    "percentiles": _(
        "Medians and 90th percentiles are exact, at every level: linear interpolation between"
        " the closest ranks (percentile_cont, Hyndman–Fan type 7, Excel PERCENTILE.INC) over"
        " every case's time, given in seconds unrounded and shown rounded once (to 0.1 min"
        " or h on the dashboard and in the app)."
    ),
    "overdue": _(
        "Overdue cases: cases raised in the period completed after their deadline or still"
        " open past it. A late case can still be closed, so many overdue cases sit beside a"
        " high closure rate."
    ),
    "department_response": _(
        "A department's response: per invitation, from that department's invitation to its"
        " acceptance, over its accepted invitations. It is not the case's response time,"
        " which the fastest department of each case decides, so it is longer."
    ),
    "rating": _(
        "Mean rating: the published monthly figures of the whole district, over the ended"
        " months the period touches (0–100)."
    ),
}


def definitions_text(*keys: str) -> str:
    """The definitions of ``keys`` as one paragraph (for a schema description)."""
    return " ".join(str(DEFINITIONS[k]) for k in keys)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value) -> float | None:
    """A mean rating (already a two-place decimal) as a float."""
    return None if value is None else round(float(value), 2)


def _seconds(value) -> float | None:
    """A time in seconds, exact (unrounded): whoever shows it rounds it once.

    Rounding here (it used to be to 0.01 s) and again for display (0.1 min
    or h) could tip the last digit shown: 44.996 s is 0.7499 min ("0.7"),
    but 45.00 s is 0.75 min ("0.8").
    """
    return None if value is None else float(value)


def overdue_condition(prefix: str = "") -> Q:
    """Cases past their deadline: completed late, or still open after it."""
    now = timezone.now()
    p = prefix
    return Q(**{f"{p}deadline__isnull": False}) & (
        Q(**{f"{p}completed_at__gt": F(f"{p}deadline")})
        | Q(
            **{
                f"{p}completed_at__isnull": True,
                f"{p}deadline__lt": now,
                f"{p}state__in": [CaseState.DISPATCHED, CaseState.IN_PROGRESS],
            }
        )
    )


# ---------------------------------------------------------------- headline


def overview(scope: Scope) -> dict:
    """The seven figures of the yearly report."""
    if not uses_daily(scope):
        return _live_overview(scope)
    with one_snapshot(), shared_reads():
        figures = _daily_overview(scope)
    # Outside the read-only snapshot: publishing a month's rating figures writes them.
    return {**figures, **rating_headline(scope)}


def _live_overview(scope: Scope) -> dict:
    """The seven figures of the yearly report."""
    cases = scope.cases()
    counts = aggregate_with_percentiles(
        cases,
        {
            "raised": Count("pk"),
            "closed": Count("pk", filter=Q(state=CaseState.CLOSED)),
            "cancelled": Count("pk", filter=Q(state=CaseState.CANCELLED)),
            "response_mean": Avg(RESPONSE),
            "handling_mean": Avg(HANDLING),
        },
        {"response_median": (RESPONSE, 0.5), "handling_median": (HANDLING, 0.5)},
    )
    response_median, handling_median = counts["response_median"], counts["handling_median"]
    return {
        "raised": counts["raised"],
        "closed": counts["closed"],
        "cancelled": counts["cancelled"],
        "closure_rate": _ratio(counts["closed"], counts["raised"] - counts["cancelled"]),
        "dispatches": Invitation.objects.filter(case__in=cases.values("pk")).count(),
        "response_mean": _seconds(counts["response_mean"]),
        "response_median": _seconds(response_median),
        "handling_mean": _seconds(counts["handling_mean"]),
        "handling_median": _seconds(handling_median),
        **rating_headline(scope),
    }


def rating_headline(scope: Scope) -> dict:
    """The mean rating, its number of ratings and the months it covers.

    Ratings are published per department and ended month only
    (``ratings.selectors``): the period is widened to the published months it
    touches, and the mean is the whole district's (a smaller area's would be
    a second way of cutting the same ratings, whose left-out remainders could
    be subtracted from one another). Narrower scopes get no rating figure.
    """
    if not scope.whole_tree:
        return {"rating_mean": None, "rating_count": 0, "rating_months": []}
    months, figures = rating_figures.district_figures(scope.first_day, scope.last_day)
    return {
        "rating_mean": _round(figures.overall),
        "rating_count": figures.count,
        "rating_months": [f"{m:%Y-%m}" for m in months],
    }


# ---------------------------------------------------------------- hot problems


def categories(scope: Scope, *, bucket: str = "month", top: int = 10) -> dict:
    """Cases by category and period, the totals, and the categories rising fastest."""
    if uses_daily(scope):
        return _daily_categories(scope, bucket=bucket, top=top)
    return _live_categories(scope, bucket=bucket, top=top)


def _live_categories(scope: Scope, *, bucket: str = "month", top: int = 10) -> dict:
    """Cases by category and period, the totals, and the categories rising fastest."""
    cases = scope.cases()
    tz = timezone.get_current_timezone()
    trunc = BUCKETS[bucket]("created_at", tzinfo=tz)
    series = [
        {
            "period": timezone.localtime(row["period"]).date()
            if hasattr(row["period"], "hour")
            else row["period"],
            "category": row["category_id"],
            "name": row["category__name"],
            "cases": row["n"],
        }
        for row in cases.annotate(period=trunc)
        .values("period", "category_id", "category__name")
        .annotate(n=Count("pk"))
        .order_by("period", "category__name", "category_id")
    ]
    middle = local_midnight(middle_day(scope))
    totals = list(
        cases.values("category_id", "category__name")
        .annotate(
            n=Count("pk"),
            first=Count("pk", filter=Q(created_at__lt=middle)),
            second=Count("pk", filter=Q(created_at__gte=middle)),
        )
        .order_by("-n", "category__name", "category_id")
    )
    return _categories_result(bucket, series, totals, top)


def _categories_result(bucket: str, series: list, totals: list, top: int) -> dict:
    rising = sorted(
        (t for t in totals if t["second"] > t["first"] and t["second"] >= 5),
        key=lambda t: (-(t["second"] - t["first"]) / max(t["first"], 1), t["category__name"]),
    )[:top]
    return {
        "bucket": bucket,
        "series": series,
        "totals": [
            {"category": t["category_id"], "name": t["category__name"], "cases": t["n"]}
            for t in totals
        ],
        "rising": [
            {
                "category": t["category_id"],
                "name": t["category__name"],
                "first_half": t["first"],
                "second_half": t["second"],
                "growth": round((t["second"] - t["first"]) / max(t["first"], 1), 4),
            }
            for t in rising
        ],
    }


# ---------------------------------------------------------------- high-incidence areas


def areas(scope: Scope, *, top: int = 10) -> dict:
    """Cases per town, grid and community (and per 1,000 cases), by category, the top places."""
    if uses_daily(scope):
        return _daily_areas(scope, top=top)
    cells = list(
        scope.cases()
        .values("community_id", "category_id", "category__name")
        .annotate(n=Count("pk"))
    )
    return _areas(cells, top=top)


def _areas(cells: list[dict], *, top: int) -> dict:
    """``cells``: cases per community and category (``community_id``, ``category_id``,
    ``category__name``, ``n``; a few thousand at most), from the cases or the daily
    figures; grids and towns are those sums added up along the tree.
    """
    from grids.models import Area

    places = {
        a["pk"]: a
        for a in Area.objects.filter(pk__in={c["community_id"] for c in cells}).values(
            "pk", "name", "parent_id", "parent__name", "parent__parent_id", "parent__parent__name"
        )
    }
    total = sum(c["n"] for c in cells)
    sums: dict[str, dict] = {"town": {}, "grid": {}, "community": {}}
    by_category: dict[tuple, dict] = {}
    for cell in cells:
        place = places[cell["community_id"]]
        keys = {
            "town": (place["parent__parent_id"], place["parent__parent__name"]),
            "grid": (place["parent_id"], place["parent__name"]),
            "community": (place["pk"], place["name"]),
        }
        for level, (area_id, name) in keys.items():
            entry = sums[level].setdefault(area_id, {"area": area_id, "name": name, "cases": 0})
            entry["cases"] += cell["n"]
        town_id, town_name = keys["town"]
        entry = by_category.setdefault(
            (town_id, cell["category_id"]),
            {
                "area": town_id,
                "name": town_name,
                "category": cell["category_id"],
                "category_name": cell["category__name"],
                "cases": 0,
            },
        )
        entry["cases"] += cell["n"]

    def ranked(level: str) -> list[dict]:
        rows = sorted(sums[level].values(), key=lambda r: (-r["cases"], r["name"] or ""))
        for r in rows:
            r["per_1000"] = round(r["cases"] * 1000 / total, 1) if total else None
        return rows

    communities = ranked("community")
    return {
        "total": total,
        "towns": ranked("town"),
        "grids": ranked("grid"),
        "communities": communities,
        "top_communities": communities[:top],
        "towns_by_category": sorted(
            by_category.values(), key=lambda r: (r["name"] or "", -r["cases"])
        ),
    }


# ---------------------------------------------------------------- timeliness


def timeliness(scope: Scope) -> dict:
    """Response and handling time distributions, and overdue cases by department."""
    if not uses_daily(scope):
        return _live_timeliness(scope)
    with one_snapshot(), shared_reads():
        return _daily_timeliness(scope)


def _live_timeliness(scope: Scope) -> dict:
    """Response and handling time distributions, and overdue cases by department."""
    cases = scope.cases()
    found = aggregate_with_percentiles(
        cases,
        {
            "response": Avg(RESPONSE),
            "handling": Avg(HANDLING),
            "overdue": Count("pk", filter=overdue_condition()),
        },
        {
            "r50": (RESPONSE, 0.5),
            "r90": (RESPONSE, 0.9),
            "h50": (HANDLING, 0.5),
            "h90": (HANDLING, 0.9),
        },
    )
    response, handling = [found["r50"], found["r90"]], [found["h50"], found["h90"]]
    means = found
    overdue = cases.filter(overdue_condition())
    by_department = (
        Invitation.objects.filter(case__in=overdue.values("pk"), state=InvitationState.ACCEPTED)
        .values("department_id", "department__name")
        .annotate(n=Count("case_id", distinct=True))
        .order_by("-n", "department__name")
    )
    return {
        "response": {
            "mean": _seconds(means["response"]),
            "p50": _seconds(response[0]),
            "p90": _seconds(response[1]),
        },
        "handling": {
            "mean": _seconds(means["handling"]),
            "p50": _seconds(handling[0]),
            "p90": _seconds(handling[1]),
        },
        "overdue": found["overdue"],
        "overdue_by_department": [
            {"department": r["department_id"], "name": r["department__name"], "cases": r["n"]}
            for r in by_department
        ],
    }


# ---------------------------------------------------------------- charts: trend and distributions


def trend(scope: Scope, *, bucket: str = "month") -> list[dict]:
    """Cases raised, closed and overdue per day, week or month of raising.

    ``[{"period": date, "raised": int, "closed": int, "overdue": int}, …]``,
    oldest first, only periods with cases. ``period`` is the first local day
    of the bucket (weeks start on Monday). ``closed`` counts the period's
    cases that are closed now (whenever they closed) and ``overdue`` those
    that are overdue (``overdue_condition``): the same definitions as the
    headline, cut by the day the case was raised, so the periods add up to
    the headline's ``raised``, ``closed`` and ``overdue``. ``bucket`` is one
    of ``BUCKETS`` (a ``KeyError`` otherwise; the API checks it first). The
    district and its towns are read from the daily figures (``_daily_trend``).
    """
    if uses_daily(scope):
        return _daily_trend(scope, bucket)
    trunc = BUCKETS[bucket]("created_at", tzinfo=timezone.get_current_timezone())
    rows = (
        scope.cases()
        .annotate(period=trunc)
        .values("period")
        .annotate(
            raised=Count("pk"),
            closed=Count("pk", filter=Q(state=CaseState.CLOSED)),
            overdue=Count("pk", filter=overdue_condition()),
        )
        .order_by("period")
    )
    return [
        {
            "period": timezone.localtime(r["period"]).date()
            if hasattr(r["period"], "hour")
            else r["period"],
            "raised": r["raised"],
            "closed": r["closed"],
            "overdue": r["overdue"],
        }
        for r in rows
    ]


#: Bin widths a histogram may take, in seconds: 1, 2, 5, 10, 15, 20, 30 min; 1, 2, 3, 4,
#: 6, 8, 12 h; 1, 2, 3, 7 days. The narrowest giving at most ``HISTOGRAM_BINS`` bins below p90 is used.
BIN_WIDTHS = (
    60,
    120,
    300,
    600,
    900,
    1200,
    1800,
    3600,
    7200,
    10800,
    14400,
    21600,
    28800,
    43200,
    86400,
    172800,
    259200,
    604800,
)
#: Bins in a histogram, the last one open (everything at or above its start).
HISTOGRAM_BINS = 12
#: The daily figures' time bins (``TimeDay.start``): a minute wide below six hours, an
#: hour wide above. Every edge a histogram draws (i × w for w in ``BIN_WIDTHS``, i <
#: ``HISTOGRAM_BINS``) is a whole minute below six hours and a whole hour above, so each
#: stored bin lies inside one histogram bin (``tests/analytics/test_time_bins.py``).
FINE_BIN, COARSE_BIN, COARSE_FROM = 60, 3600, 21600


def time_bin(expression):
    """The start, in whole seconds, of the daily figures' bin holding ``expression`` (seconds):
    ``⌊t / 60⌋ × 60`` below ``COARSE_FROM``, ``⌊t / 3600⌋ × 3600`` from it (negative times, from
    clocks out of step, in minute bins). A database expression; the times carry microseconds,
    so none lies within a double's rounding of an edge and the bin is exactly
    ``start ≤ t < bin_end(start)``."""
    return Cast(
        DbCase(
            When(
                GreaterThanOrEqual(expression, COARSE_FROM),
                then=Floor(expression / float(COARSE_BIN)) * float(COARSE_BIN),
            ),
            default=Floor(expression / float(FINE_BIN)) * float(FINE_BIN),
        ),
        IntegerField(),
    )


def bin_end(start: int) -> int:
    """The end (exclusive) of the daily figures' time bin that starts at ``start`` seconds."""
    return start + (COARSE_BIN if start >= COARSE_FROM else FINE_BIN)


#: The unit each distribution is shown in (seconds per unit): minutes and hours.
UNITS = {"response": ("minute", 60), "handling": ("hour", 3600)}


def bin_width(p90: float | None) -> int:
    """The histogram's bin width in seconds: the narrowest of ``BIN_WIDTHS`` ≥ p90 / 8.

    So the 90th percentile falls in the first 8 or 9 of ``HISTOGRAM_BINS``
    bins and the last, open bin holds the long tail. No p90 (no case): 60 s.
    """
    wanted = (p90 or 0) / 8
    return next((w for w in BIN_WIDTHS if w >= wanted), BIN_WIDTHS[-1])


def distributions(scope: Scope) -> dict:
    """Histograms of the response and handling times, with their exact p50, p90 and mean.

    ``{"response": D, "handling": D}``, each ``D`` =
    ``{"unit": "minute"|"hour", "unit_seconds": 60|3600, "n": cases with the
    time, "mean", "p50", "p90": seconds (exact, unrounded; None without
    cases), "width": bin width in seconds, "bins": [{"start": s, "end": s or
    None, "cases": n}, …]}``. There are ``HISTOGRAM_BINS`` bins of equal
    width from 0; bin i holds the times t with start ≤ t < end; the last bin
    has no end and holds every time ≥ its start. The times are those of the
    headline (``RESPONSE``, ``HANDLING``): a case counts once it has the time.
    The bins add up to ``n``. Percentiles: see the module docstring.
    """
    if not uses_daily(scope):
        return _distributions(scope, _live_distribution_figures(scope), _live_bins)
    with one_snapshot(), shared_reads():
        sums = _total(CaseDay, scope, CASE_SUMS)
        found = ranked(scope, P50_P90)
        found.update(
            rn=sums["response_n"],
            hn=sums["handling_n"],
            rmean=_mean(sums, "response"),
            hmean=_mean(sums, "handling"),
        )
        return _distributions(scope, found, _daily_bins)


def _live_distribution_figures(scope: Scope) -> dict:
    """``rn``, ``hn`` (cases with each time), ``rmean``, ``hmean``, ``r50``… ``h90``."""
    return aggregate_with_percentiles(
        scope.cases(),
        {
            "rn": Count(
                "pk", filter=Q(first_accepted_at__isnull=False, dispatched_at__isnull=False)
            ),
            "hn": Count(
                "pk", filter=Q(completed_at__isnull=False, first_accepted_at__isnull=False)
            ),
            "rmean": Avg(RESPONSE),
            "hmean": Avg(HANDLING),
        },
        {
            "r50": (RESPONSE, 0.5),
            "r90": (RESPONSE, 0.9),
            "h50": (HANDLING, 0.5),
            "h90": (HANDLING, 0.9),
        },
    )


def _live_bins(scope: Scope, time: str, width: int) -> dict[int, int]:
    """Cases per histogram bin (``{i: cases}``, bins of ``width`` seconds, the last one
    open), counted over the scope's cases."""
    rows = (
        scope.cases()
        .annotate(_t=TIMES[time])
        .filter(_t__isnull=False)
        .annotate(_bin=Least(Floor(F("_t") / float(width)), Value(HISTOGRAM_BINS - 1.0)))
        .values("_bin")
        # COUNT(*), not of the id: the time's index (migration analytics.0007) then
        # holds every column read, and one index-only walk makes the histogram.
        .annotate(n=Count("*"))
        .order_by()
    )
    by_bin: dict[int, int] = defaultdict(int)
    for row in rows:
        # a negative time (clocks out of step) counts in the first bin
        by_bin[max(int(row["_bin"]), 0)] += row["n"]
    return by_bin


def _daily_bins(scope: Scope, time: str, width: int) -> dict[int, int]:
    """``_live_bins`` from the scope's ``histogram``: each daily bin lies inside one
    histogram bin (``FINE_BIN``), so the counts are regrouped, not estimated."""
    by_bin: dict[int, int] = defaultdict(int)
    for start, _end, cases in histogram(scope, time):
        by_bin[min(max(start // width, 0), HISTOGRAM_BINS - 1)] += cases
    return by_bin


def _distributions(scope: Scope, found: dict, bins) -> dict:
    """The histograms, around the figures ``found`` (``_live_distribution_figures``' keys);
    ``bins(scope, time, width)`` counts the cases per bin (``_live_bins``, ``_daily_bins``)."""
    out = {}
    for name, key in (("response", "r"), ("handling", "h")):
        unit, unit_seconds = UNITS[name]
        width = bin_width(found[f"{key}90"])
        by_bin = bins(scope, name, width)
        out[name] = {
            "unit": unit,
            "unit_seconds": unit_seconds,
            "n": found[f"{key}n"],
            "mean": _seconds(found[f"{key}mean"]),
            "p50": _seconds(found[f"{key}50"]),
            "p90": _seconds(found[f"{key}90"]),
            "width": width,
            "bins": [
                {
                    "start": i * width,
                    "end": None if i == HISTOGRAM_BINS - 1 else (i + 1) * width,
                    "cases": by_bin.get(i, 0),
                }
                for i in range(HISTOGRAM_BINS)
            ],
        }
    return out


# ---------------------------------------------------------------- departments


def departments(scope: Scope) -> list[dict]:
    """Cooperation and the year-end ranking (年终晒单), one row per department invited.

    Scores are the department's published monthly figures (``_ranking``): a
    department without K ratings in a published month of the period shows
    none and is ranked after the others. Rank:
    by mean overall score, then by acceptance rate, within the department's
    kind and overall.
    """
    return _daily_departments(scope) if uses_daily(scope) else _live_departments(scope)


def _live_departments(scope: Scope) -> list[dict]:
    """Cooperation and the year-end ranking (年终晒单), one row per department invited.

    Scores are the department's published monthly figures (``_ranking``): a
    department without K ratings in a published month of the period shows
    none and is ranked after the others. Rank:
    by mean overall score, then by acceptance rate, within the department's
    kind and overall.
    """
    cases = scope.cases()
    case_ids = cases.values("pk")
    invitations = Invitation.objects.filter(case__in=case_ids)
    multi = (
        cases.annotate(
            departments=Count(
                "invitations__department",
                filter=Q(invitations__state=InvitationState.ACCEPTED),
                distinct=True,
            )
        )
        .filter(departments__gte=2)
        .values("pk")
    )
    accepted = Q(state=InvitationState.ACCEPTED)
    rows = list(
        invitations.values("department_id", "department__name", "department__kind")
        .annotate(
            invited=Count("pk"),
            cases=Count("case_id", distinct=True),
            accepted=Count("pk", filter=accepted),
            declined=Count("pk", filter=Q(state=InvitationState.DECLINED)),
            returned=Count("pk", filter=Q(state=InvitationState.RETURNED)),
            response_mean=Avg(Seconds(F("responded_at"), F("invited_at")), filter=accepted),
            handling_mean=Avg(DEPARTMENT_HANDLING, filter=accepted),
            overdue=Count("case_id", distinct=True, filter=accepted & overdue_condition("case__")),
            multi_department=Count("case_id", distinct=True, filter=accepted & Q(case__in=multi)),
        )
        .order_by("department__name")
    )
    reasons = _top_reasons(
        invitations.filter(state=InvitationState.DECLINED)
        .values("department_id", "reason")
        .annotate(n=Count("pk"))
        .order_by("department_id", "-n", "reason")
    )
    return _ranking(scope, rows, reasons)


def _top_reasons(rows, keep: int = 3) -> dict[int, list[dict]]:
    """Per department, its most frequent decline reasons (rows ordered by department, -n)."""
    reasons: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        if len(reasons[row["department_id"]]) < keep:
            reasons[row["department_id"]].append({"reason": row["reason"], "count": row["n"]})
    return reasons


def _ranking(scope: Scope, rows, reasons) -> list[dict]:
    """The ranked rows from per-department figures (live or daily, the same shape).

    The rating columns are the department's own published figures
    (``ratings.selectors.department_figures``): whole ended months touching
    the period, over the whole district whatever the area asked for, each
    department-month of fewer than K ratings left out. ``ratings`` counts
    every rating of those months, ``ratings_in_mean`` those behind the means.
    """
    criteria = list(Criterion.objects.filter(is_active=True).order_by("position", "code"))
    months, figures = rating_figures.department_figures(scope.first_day, scope.last_day)
    counts = rating_figures.rated_counts(months)
    out = []
    for row in rows:
        rated = figures.get(row["department_id"], rating_figures.RatingFigures())
        out.append(
            {
                "department": row["department_id"],
                "name": row["department__name"],
                "kind": row["department__kind"],
                "cases": row["cases"],
                "invited": row["invited"],
                "accepted": row["accepted"],
                "declined": row["declined"],
                "acceptance_rate": _ratio(row["accepted"], row["invited"]),
                "decline_rate": _ratio(row["declined"], row["invited"]),
                "returned": row["returned"],
                "return_rate": _ratio(row["returned"], row["invited"]),
                "decline_reasons": reasons.get(row["department_id"], []),
                "response_mean": _seconds(row["response_mean"]),
                "handling_mean": _seconds(row["handling_mean"]),
                "overdue": row["overdue"],
                "multi_department": row["multi_department"],
                "ratings": counts.get(row["department_id"], 0),
                "ratings_in_mean": rated.count,
                "rating_months": [f"{m:%Y-%m}" for m in months],
                "scores_withheld": rated.withheld,
                "rating_mean": _round(rated.overall),
                "criteria": {c.code: _round(rated.criteria.get(c.pk)) for c in criteria},
            }
        )

    def order(item: dict):
        return (
            item["rating_mean"] is None,
            -(item["rating_mean"] or 0),
            -(item["acceptance_rate"] or 0),
            item["name"],
        )

    out.sort(key=order)
    kinds: dict[str, int] = defaultdict(int)
    for position, item in enumerate(out, start=1):
        kinds[item["kind"]] += 1
        item["rank"] = position
        item["rank_in_kind"] = kinds[item["kind"]]
    return out


# ---------------------------------------------------------------- template suggestions


def template_suggestions(scope: Scope) -> list[dict]:
    """Draft templates (``kind: new``) and changed defaults (``kind: update``).

    New: categories with at least ``SUGGESTION_MIN_CASES`` cases raised without
    a template, with the departments that accepted at least half of them.
    Update: templates whose cases keep being taken by other departments than
    the template's defaults.
    """
    if uses_daily(scope):
        return _daily_template_suggestions(scope)
    return _live_template_suggestions(scope)


def _live_template_suggestions(scope: Scope) -> list[dict]:
    untemplated = scope.cases().filter(template__isnull=True)
    per_category = {
        r["category_id"]: r
        for r in untemplated.values("category_id", "category__name").annotate(n=Count("pk"))
        if r["n"] >= SUGGESTION_MIN_CASES
    }
    chosen = _taking_part(
        Invitation.objects.filter(
            case__in=untemplated.filter(category_id__in=list(per_category)).values("pk"),
            state=InvitationState.ACCEPTED,
        )
        .values("case__category_id", "department_id", "department__name")
        .annotate(n=Count("case_id", distinct=True))
        .order_by("case__category_id", "-n", "department__name"),
        group="case__category_id",
        totals={c: r["n"] for c, r in per_category.items()},
    )
    templated = scope.cases().filter(template__isnull=False)
    per_template = {
        r["template_id"]: r["n"]
        for r in templated.values("template_id").annotate(n=Count("pk"))
        if r["n"] >= SUGGESTION_MIN_CASES
    }
    taking_part = _taking_part(
        Invitation.objects.filter(
            case__in=templated.filter(template_id__in=list(per_template)).values("pk"),
            state=InvitationState.ACCEPTED,
        )
        .values("case__template_id", "department_id", "department__name")
        .annotate(n=Count("case_id", distinct=True))
        .order_by("case__template_id", "-n", "department__name"),
        group="case__template_id",
        totals=per_template,
    )
    return _new_templates(per_category, chosen) + _updates(per_template, taking_part)


def _taking_part(rows, *, group: str, totals: dict) -> dict[int, list[dict]]:
    """Per group (category or template), the departments in ≥ half of its cases.

    ``rows`` carry the group, ``department_id``, ``department__name`` and ``n``
    (its cases the department took part in), ordered by group then ``-n``.
    """
    chosen: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        if row["n"] / totals[row[group]] >= SUGGESTION_MIN_SHARE:
            chosen[row[group]].append(
                {
                    "department": row["department_id"],
                    "name": row["department__name"],
                    "cases": row["n"],
                }
            )
    return chosen


def _new_templates(per_category: dict, chosen: dict) -> list[dict]:
    """Suggested new templates, most frequent category first."""
    return [
        {
            "kind": "new",
            "template": None,
            "category": category_id,
            "name": per_category[category_id]["category__name"],
            "cases": per_category[category_id]["n"],
            "departments": chosen[category_id],
            "current": [],
        }
        for category_id in sorted(per_category, key=lambda c: -per_category[c]["n"])
        if chosen.get(category_id)
    ]


def _updates(per_template: dict, taking_part: dict) -> list[dict]:
    """Templates whose taking-part departments differ from their defaults."""
    from templates.models import CaseTemplate

    out = []
    templates = CaseTemplate.objects.filter(pk__in=list(per_template)).select_related("category")
    for template in templates.prefetch_related("default_departments"):
        current = sorted(template.default_departments.all(), key=lambda d: d.name)
        suggested = taking_part.get(template.pk, [])
        if suggested and {d["department"] for d in suggested} != {d.pk for d in current}:
            out.append(
                {
                    "kind": "update",
                    "template": template.pk,
                    "category": template.category_id,
                    "name": template.name,
                    "cases": per_template[template.pk],
                    "departments": suggested,
                    "current": [{"department": d.pk, "name": d.name} for d in current],
                }
            )
    return sorted(out, key=lambda s: -s["cases"])


# ---------------------------------------------------------------- daily figures
#
# For the whole district or a town, the indicators add up the daily figures of
# analytics.models (rebuilt off the request path) instead of scanning every
# case for counts and sums. A day still waiting for its rebuild (stale) is not
# read from the table: its rows are computed from its cases now
# (``facts.rows_for``) and added to the fresh days' sums (``summed``), so no
# reader sees figures older than the data and one stale day costs one day's
# cases, not the year's. Grids and communities are small enough to read live.
# Counts, sums and means are the same either way; percentiles are always
# exact, from the cases themselves.

#: Off in tests that compare the daily figures with the live ones.
USE_DAILY = True


def uses_daily(scope: Scope) -> bool:
    """Whether the scope is read from the daily figures: the whole district or a town,
    over more than one day (a single day's cases, the wall's today, are few: reading
    them is cheaper than adding up the day's rows, or computing them when it is stale)."""
    from grids.choices import AreaLevel

    return (
        USE_DAILY
        and (scope.area is None or scope.area.level <= AreaLevel.TOWN)
        and scope.last_day > scope.first_day
    )


def middle_day(scope: Scope):
    days = (scope.last_day - scope.first_day).days + 1
    return scope.first_day + timedelta(days=days // 2)


def _area_path(scope: Scope) -> str | None:
    """The path the scope's rows are filtered by, or None for the whole district."""
    if scope.area is None or scope._holds_everything():
        return None
    return scope.area.path


def _fact_rows(model, scope: Scope, stale: list, *, roll_ups: bool = True, by_day=()):
    """``model``'s saved rows of the scope's period and area, stale days left out: the
    roll-up rows of the whole months inside the period that hold no stale day, the day
    rows of every other day (``DailyFigure``); ``roll_ups=False``: day rows only; the
    months holding a day of ``by_day`` are read by day too."""
    from analytics.facts import month_end

    first, last = scope.first_day, scope.last_day
    stale_months = {d.replace(day=1) for d in [*stale, *by_day]}
    months, month = [], first.replace(day=1)
    while month <= last:
        if roll_ups and first <= month and month_end(month) <= last and month not in stale_months:
            months.append(month)
        month = month_end(month) + timedelta(days=1)
    # the day rows: the period less those months, as ranges
    days = Q()
    start = first
    for whole in [*months, None]:
        end = last if whole is None else whole - timedelta(days=1)
        if start <= end:
            days |= Q(day__range=(start, end))
        if whole is not None:
            start = month_end(whole) + timedelta(days=1)
    wanted = Q(whole_month=True, day__in=months) if months else Q(pk__in=[])
    if days:
        wanted |= Q(days, whole_month=False) & ~Q(day__in=stale)
    rows = model.objects.filter(wanted)
    path = _area_path(scope)
    if path is not None:
        place = "community" if model is CaseDay else "town"
        rows = rows.filter(**{f"{place}__path__startswith": path})
    return rows


def _matches(row, where: dict) -> bool:
    """``row`` (an unsaved fact) meets ``where``: ``field`` (equal), ``field__isnull``
    or ``field__in``, the lookups ``summed`` also hands to the database."""
    for key, wanted in where.items():
        name, _, lookup = key.partition("__")
        value = getattr(row, name)
        if lookup == "isnull":
            if (value is None) != wanted:
                return False
        elif lookup == "in":
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def summed(
    model,
    scope: Scope,
    by: tuple[str, ...],
    fields: tuple[str, ...],
    *,
    by_month: bool = False,
    split: date | None = None,
    **where,
) -> list:
    """``model``'s ``fields`` summed per ``by`` over the scope: fresh days from the table
    (whole months from their roll-ups), stale days computed from their cases now
    (``facts.rows_for``).

    A grouping by ``day`` reads day rows only, unless ``by_month``: the caller then
    tells the days apart only by their month (a month's roll-up carries its first
    day), and by whether they fall before ``split`` (the month holding it is read by
    day).

    ``by`` and ``where`` name plain columns (``category_id``, ``day``…; ``where``
    lookups: equality, ``__isnull``, ``__in``). Returns ``[{**by, **fields}]``, one
    dict per group with at least one row, unordered; sums of no row are 0. The
    sums are those of the all-fresh table: the stale days' rows are the rows their
    rebuild would write.
    """
    from analytics.facts import rows_for
    from analytics.models import StaleDay

    stale = list(
        StaleDay.objects.filter(day__range=(scope.first_day, scope.last_day))
        .values_list("day", flat=True)
        .distinct()  # a day has a mark per change since its rebuild
    )
    out: dict[tuple, dict] = {}
    # A grouping by day reads day rows only (a month's roll-up has no days).
    fresh = _fact_rows(
        model,
        scope,
        stale,
        roll_ups="day" not in by or by_month,
        by_day=() if split is None else (split,),
    ).filter(**where)
    sums = {f"sum_{f}": Sum(f) for f in fields}
    # (values() of no field would group by every column: a total is one aggregate)
    for r in fresh.values(*by).annotate(**sums).order_by() if by else [fresh.aggregate(**sums)]:
        if by or r[f"sum_{fields[0]}"] is not None:
            out[tuple(r[k] for k in by)] = {f: r[f"sum_{f}"] or 0 for f in fields}
    for row in rows_for(model, stale, _area_path(scope)):
        if not _matches(row, where):
            continue
        entry = out.setdefault(tuple(getattr(row, k) for k in by), dict.fromkeys(fields, 0))
        for f in fields:
            entry[f] += getattr(row, f)
    return [{**dict(zip(by, key, strict=True)), **sums} for key, sums in out.items()]


_SHARED: ContextVar[dict | None] = ContextVar("analytics_shared_reads", default=None)


@contextmanager
def shared_reads():
    """Inside, each scope's daily totals and exact percentiles are read once and reused.

    For a page showing several selectors of one scope (the dashboard: the
    overview, timeliness and distributions all want the totals and the
    medians), and for one selector that wants the totals twice (its figures and
    the percentiles' cross-check). Use it inside one ``one_snapshot`` so every
    reuse is of the same snapshot. Inside another, it keeps the outer one's reads.
    """
    if _SHARED.get() is not None:
        yield
        return
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _shared(key: tuple, compute):
    memo = _SHARED.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _total(model, scope: Scope, fields: tuple[str, ...]) -> dict:
    """``fields`` summed over the whole scope (0 without rows)."""

    def compute() -> dict:
        rows = summed(model, scope, (), fields)
        return rows[0] if rows else dict.fromkeys(fields, 0)

    return dict(_shared(("total", model, scope, fields), compute))


def _names(model, ids, *fields: str) -> dict:
    """``{pk: {field: value}}`` of the rows of ``model`` with those ids."""
    return {r["pk"]: r for r in model.objects.filter(pk__in=set(ids)).values("pk", *fields)}


def _bucket_start(day, bucket: str):
    """The first day of ``day``'s bucket: itself, its week's Monday, its month's 1st."""
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def exact_percentiles(scope: Scope, wanted: dict) -> dict:
    """Exact percentiles over the scope's cases: ``{name: (expression, fraction)}`` → seconds.

    ``percentile_cont`` (type 7, see the module docstring) over the per-case
    times, NULLs (cases not yet accepted or completed) left out; ``None`` when
    no case has the time. The daily figures keep no percentiles: a percentile
    is not a sum of parts, and the 5 % histograms they once kept put the
    district's median up to 5 % off.
    """
    return aggregate_with_percentiles(scope.cases(), {}, wanted)


#: Each case's times, by the name of their sums in the daily figures.
TIMES = {"response": RESPONSE, "handling": HANDLING}
#: The medians and 90th percentiles of both times.
P50_P90 = {
    "r50": ("response", 0.5),
    "r90": ("response", 0.9),
    "h50": ("handling", 0.5),
    "h90": ("handling", 0.9),
}


def histogram(scope: Scope, time: str) -> list[tuple[int, int, int]]:
    """The scope's cases counted by the daily figures' time bins: ``[(start, end, cases)]``
    in seconds, ascending, bins with no case left out. ``time`` is one of ``TIMES``.
    Fresh days from ``TimeDay``, stale days from their cases (``summed``); read once
    per page inside ``shared_reads``."""

    def compute() -> list[tuple[int, int, int]]:
        rows = summed(TimeDay, scope, ("start",), ("cases",), time=time)
        return sorted((r["start"], bin_end(r["start"]), r["cases"]) for r in rows if r["cases"])

    return _shared(("histogram", scope, time), compute)


def ranked(scope: Scope, wanted: dict[str, tuple[str, float]]) -> dict:
    """Exact percentiles (``exact_percentiles``' figures), each read inside its bin.

    ``wanted``: ``{name: (time, fraction)}``, time one of ``TIMES``. The scope's
    ``histogram`` says which bin holds each rank, so each percentile is one read
    of at most two bins' cases (``functions.binned_percentiles``) instead of a
    sort, or a walk to the rank, of the whole period. Call it inside
    ``one_snapshot``, so the counts and the cases read are the same cases.
    """
    out: dict = {}
    for time in dict.fromkeys(t for t, _fraction in wanted.values()):
        names = [name for name, (t, _fraction) in wanted.items() if t == time]
        fractions = tuple(wanted[n][1] for n in names)
        found = _shared(
            ("ranked", scope, time, fractions),
            lambda time=time, fractions=fractions: _binned_or_exact(scope, time, list(fractions)),
        )
        out.update(zip(names, found, strict=True))
    return out


def _binned_or_exact(scope: Scope, time: str, fractions: list[float]) -> list[float | None]:
    """``binned_percentiles`` of the scope's ``histogram``; should the bins not count the
    scope's cases (a change that no mark reached: their total differs from the cases'
    daily figures, kept by community, or a bin holds fewer cases than counted), the
    exact figures from a read of every case instead, logged: slower, not wrong. A count
    of each bin read would check more, but costs a walk of the whole bin (at 1M cases
    a minute bin near the median holds tens of thousands): not done."""
    bins = histogram(scope, time)
    try:
        counted = _total(CaseDay, scope, CASE_SUMS)[f"{time}_n"]  # kept by community
        if sum(n for _start, _end, n in bins) != counted:
            raise ValueError("the time bins and the cases of the day disagree")
        return binned_percentiles(scope.cases(), TIMES[time], bins, fractions)
    except ValueError:
        logger.warning(
            "analytics.bins_disagree",
            extra={"time": time, "area": scope.area.pk if scope.area else None},
        )
        names = [f"p{n}" for n in range(len(fractions))]
        found = exact_percentiles(
            scope, {name: (TIMES[time], f) for name, f in zip(names, fractions, strict=True)}
        )
        return [found[name] for name in names]


def _open_overdue(scope: Scope):
    """Cases of the scope still open past their deadline (few: read live)."""
    return scope.cases().filter(
        deadline__lt=timezone.now(),
        completed_at__isnull=True,
        state__in=[CaseState.DISPATCHED, CaseState.IN_PROGRESS],
    )


def open_overdue_per_day(scope: Scope, *by: str) -> list[dict]:
    """Cases of the scope open past their deadline, counted per local day of raising
    (``day``) and ``by`` (``n``): the overdue cases the daily figures cannot hold."""
    day = TruncDate("created_at", tzinfo=timezone.get_current_timezone())
    return list(_open_overdue(scope).annotate(day=day).values("day", *by).annotate(n=Count("pk")))


def _daily_trend(scope: Scope, bucket: str) -> list[dict]:
    """``trend`` from the daily figures: raised, closed and completed-late per day, plus
    the open cases past their deadline read live (few), added up per bucket."""
    totals: dict = defaultdict(lambda: {"raised": 0, "closed": 0, "overdue": 0})
    for r in summed(
        CaseDay, scope, ("day",), ("raised", "closed", "overdue_done"), by_month=bucket == "month"
    ):
        entry = totals[_bucket_start(r["day"], bucket)]
        entry["raised"] += r["raised"]
        entry["closed"] += r["closed"]
        entry["overdue"] += r["overdue_done"]
    for r in open_overdue_per_day(scope):
        totals[_bucket_start(r["day"], bucket)]["overdue"] += r["n"]
    return [
        {"period": period, **figures}
        for period, figures in sorted(totals.items())
        if figures["raised"]
    ]


CASE_SUMS = (
    "raised",
    "closed",
    "cancelled",
    "dispatches",
    "response_sum",
    "response_n",
    "handling_sum",
    "handling_n",
    "overdue_done",
)


def _daily_overview(scope: Scope) -> dict:
    sums = _total(CaseDay, scope, CASE_SUMS)
    medians = ranked(scope, {"r50": ("response", 0.5), "h50": ("handling", 0.5)})
    raised, closed, cancelled = sums["raised"], sums["closed"], sums["cancelled"]
    return {
        "raised": raised,
        "closed": closed,
        "cancelled": cancelled,
        "closure_rate": _ratio(closed, raised - cancelled),
        "dispatches": sums["dispatches"],
        "response_mean": _mean(sums, "response"),
        "response_median": _seconds(medians["r50"]),
        "handling_mean": _mean(sums, "handling"),
        "handling_median": _seconds(medians["h50"]),
    }


def _mean(sums: dict, name: str) -> float | None:
    return _seconds(sums[f"{name}_sum"] / sums[f"{name}_n"]) if sums[f"{name}_n"] else None


def _daily_categories(scope: Scope, *, bucket: str, top: int) -> dict:
    middle = middle_day(scope)
    rows = summed(
        CaseDay,
        scope,
        ("day", "category_id"),
        ("raised",),
        by_month=bucket == "month",
        split=middle,
    )
    names = _names(Category, (r["category_id"] for r in rows), "name")
    series: dict[tuple, int] = defaultdict(int)
    totals: dict[int, dict] = {}
    for r in rows:
        category = r["category_id"]
        series[(_bucket_start(r["day"], bucket), category)] += r["raised"]
        total = totals.setdefault(
            category,
            {
                "category_id": category,
                "category__name": names[category]["name"],
                "n": 0,
                "first": 0,
                "second": 0,
            },
        )
        total["n"] += r["raised"]
        total["first" if r["day"] < middle else "second"] += r["raised"]
    return _categories_result(
        bucket,
        sorted(
            (
                {
                    "period": period,
                    "category": category,
                    "name": names[category]["name"],
                    "cases": n,
                }
                for (period, category), n in series.items()
                if n
            ),
            key=lambda r: (r["period"], r["name"], r["category"]),
        ),
        sorted(
            (t for t in totals.values() if t["n"]),
            key=lambda t: (-t["n"], t["category__name"], t["category_id"]),
        ),
        top,
    )


def _daily_areas(scope: Scope, *, top: int) -> dict:
    rows = summed(CaseDay, scope, ("community_id", "category_id"), ("raised",))
    names = _names(Category, (r["category_id"] for r in rows), "name")
    return _areas(
        [
            {
                "community_id": r["community_id"],
                "category_id": r["category_id"],
                "category__name": names[r["category_id"]]["name"],
                "n": r["raised"],
            }
            for r in rows
            if r["raised"]
        ],
        top=top,
    )


def _daily_timeliness(scope: Scope) -> dict:
    sums = _total(CaseDay, scope, CASE_SUMS)
    found = ranked(scope, P50_P90)
    response, handling = [found["r50"], found["r90"]], [found["h50"], found["h90"]]
    open_late = _open_overdue(scope)
    late = summed(DepartmentDay, scope, ("department_id",), ("overdue_done",))
    names = _names(Department, (r["department_id"] for r in late), "name")
    by_department: dict[int, dict] = {
        r["department_id"]: {
            "department": r["department_id"],
            "name": names[r["department_id"]]["name"],
            "cases": r["overdue_done"],
        }
        for r in late
    }
    for r in (
        Invitation.objects.filter(case__in=open_late.values("pk"), state=InvitationState.ACCEPTED)
        .values("department_id", "department__name")
        .annotate(n=Count("case_id", distinct=True))
    ):
        entry = by_department.setdefault(
            r["department_id"],
            {"department": r["department_id"], "name": r["department__name"], "cases": 0},
        )
        entry["cases"] += r["n"]
    return {
        "response": {
            "mean": _mean(sums, "response"),
            "p50": _seconds(response[0]),
            "p90": _seconds(response[1]),
        },
        "handling": {
            "mean": _mean(sums, "handling"),
            "p50": _seconds(handling[0]),
            "p90": _seconds(handling[1]),
        },
        "overdue": sums["overdue_done"] + open_late.count(),
        "overdue_by_department": sorted(
            (d for d in by_department.values() if d["cases"]),
            key=lambda d: (-d["cases"], d["name"]),
        ),
    }


DEPARTMENT_SUMS = (
    "invited",
    "cases",
    "accepted",
    "declined",
    "returned",
    "response_sum",
    "response_n",
    "handling_sum",
    "handling_n",
    "overdue_done",
    "multi_department",
)


def _daily_departments(scope: Scope) -> list[dict]:
    open_late = {
        r["department_id"]: r["n"]
        for r in Invitation.objects.filter(
            case__in=_open_overdue(scope).values("pk"), state=InvitationState.ACCEPTED
        )
        .values("department_id")
        .annotate(n=Count("case_id", distinct=True))
    }
    sums = summed(DepartmentDay, scope, ("department_id",), DEPARTMENT_SUMS)
    names = _names(Department, (r["department_id"] for r in sums), "name", "kind")
    rows = []
    for r in sorted(sums, key=lambda r: names[r["department_id"]]["name"]):
        if r["invited"]:
            department = names[r["department_id"]]
            rows.append(
                {
                    "department_id": r["department_id"],
                    "department__name": department["name"],
                    "department__kind": department["kind"],
                    "invited": r["invited"],
                    "cases": r["cases"],
                    "accepted": r["accepted"],
                    "declined": r["declined"],
                    "returned": r["returned"],
                    "response_mean": _mean(r, "response"),
                    "handling_mean": _mean(r, "handling"),
                    "overdue": r["overdue_done"] + open_late.get(r["department_id"], 0),
                    "multi_department": r["multi_department"],
                }
            )
    declines = summed(DeclineDay, scope, ("department_id", "reason"), ("n",))
    reasons = _top_reasons(
        sorted(
            (r for r in declines if r["n"]),
            key=lambda r: (r["department_id"], -r["n"], r["reason"]),
        )
    )
    return _ranking(scope, rows, reasons)


def _daily_template_suggestions(scope: Scope) -> list[dict]:
    rows = summed(TemplateDay, scope, ("category_id", "template_id", "department_id"), ("cases",))
    counted = [r for r in rows if r["department_id"] is None]  # the rows counting the cases
    taking = [r for r in rows if r["department_id"] is not None and r["cases"]]
    departments = _names(Department, (r["department_id"] for r in taking), "name")
    categories = _names(Category, (r["category_id"] for r in counted), "name")

    def per(key: str, chosen: list) -> dict:
        out: dict = defaultdict(int)
        for r in chosen:
            out[r[key]] += r["cases"]
        return out

    per_category = {
        c: {"category_id": c, "category__name": categories[c]["name"], "n": n}
        for c, n in per("category_id", [r for r in counted if r["template_id"] is None]).items()
        if n >= SUGGESTION_MIN_CASES
    }
    per_template = {
        t: n
        for t, n in per("template_id", [r for r in counted if r["template_id"] is not None]).items()
        if n >= SUGGESTION_MIN_CASES
    }

    def departments_of(key: str, chosen: list) -> list[dict]:
        """Cases per (group, department), ordered by group, -cases, department name."""
        cells: dict[tuple, int] = defaultdict(int)
        for r in chosen:
            cells[(r[key], r["department_id"])] += r["cases"]
        return sorted(
            (
                {
                    key: group,
                    "department_id": department,
                    "department__name": departments[department]["name"],
                    "n": n,
                }
                for (group, department), n in cells.items()
            ),
            key=lambda r: (r[key], -r["n"], r["department__name"]),
        )

    chosen = _taking_part(
        departments_of(
            "category_id",
            [r for r in taking if r["template_id"] is None and r["category_id"] in per_category],
        ),
        group="category_id",
        totals={c: r["n"] for c, r in per_category.items()},
    )
    taking_part = _taking_part(
        departments_of("template_id", [r for r in taking if r["template_id"] in per_template]),
        group="template_id",
        totals=per_template,
    )
    return _new_templates(per_category, chosen) + _updates(per_template, taking_part)
