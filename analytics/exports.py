"""Spreadsheets for auditors: ratings, the ranking, the case list with its times.

Rows are read in chunks (``iterator``) and written out as they come
(``core.exports``), so 100,000 rows never sit in memory at once. Nothing here
names the person who rated (no such column exists).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from analytics import selectors
from analytics.scope import Scope
from cases.choices import CaseState, InvitationState
from cases.models import Invitation
from core.exports import PERCENT, Sheet
from ratings.models import Criterion, Rating

CHUNK = 2000


def _minutes(end, start):
    return round((end - start).total_seconds() / 60, 1) if end and start else None


def _hours(end, start):
    return round((end - start).total_seconds() / 3600, 2) if end and start else None


def ratings_sheet(scope: Scope) -> Sheet:
    """One row per rating (case, scores, comment): for auditors only (the view checks)."""
    criteria = list(Criterion.objects.order_by("position", "code"))
    ratings = (
        Rating.objects.filter(case__in=scope.cases().values("pk"))
        .select_related("case", "department")
        .prefetch_related("scores")
        .order_by("created_at", "pk")
    )

    def rows() -> Iterator[list]:
        for rating in ratings.iterator(chunk_size=CHUNK):
            by_criterion = {s.criterion_id: s.score for s in rating.scores.all()}
            yield [
                rating.case.number,
                rating.department.name,
                rating.overall,
                *[by_criterion.get(c.pk) for c in criteria],
                rating.comment,
                rating.created_at,
            ]

    headers = [
        _("Case number"),
        _("Department"),
        _("Overall score"),
        *[c.name for c in criteria],
        _("Comment"),
        _("Rated at"),
    ]
    return Sheet(_("Ratings"), headers, rows())


def ranking_sheet(scope: Scope) -> Sheet:
    criteria = list(Criterion.objects.filter(is_active=True).order_by("position", "code"))
    headers = [
        _("Rank"),
        _("Rank within kind"),
        _("Department"),
        _("Kind"),
        _("Cases invited to"),
        _("Acceptance rate"),
        _("Mean response time (minutes)"),
        _("Mean handling time (hours)"),
        _("Declined (sent back)"),
        _("Overdue cases"),
        _("Ratings behind the scores"),
        _("Mean overall score"),
        *[c.name for c in criteria],
    ]
    from departments.choices import DepartmentKind

    def rows() -> Iterator[list]:
        for row in selectors.departments(scope):
            yield [
                row["rank"],
                row["rank_in_kind"],
                row["name"],
                DepartmentKind(row["kind"]).label,
                row["cases"],
                row["acceptance_rate"],
                round(row["response_mean"] / 60, 1) if row["response_mean"] is not None else None,
                round(row["handling_mean"] / 3600, 2) if row["handling_mean"] is not None else None,
                row["declined"],
                row["overdue"],
                row["ratings_in_mean"],
                row["rating_mean"],
                *[row["criteria"].get(c.code) for c in criteria],
            ]

    # The acceptance rate is a ratio (0.8182): shown as 81.8 % in the workbook.
    rate = headers.index(_("Acceptance rate"))
    return Sheet(_("Ranking"), headers, rows(), formats={rate: PERCENT})


def cases_sheet(scope: Scope) -> Sheet:
    cases = (
        scope.cases()
        .select_related("category", "community__parent__parent")
        .prefetch_related(
            Prefetch("invitations", queryset=Invitation.objects.select_related("department"))
        )
        .order_by("created_at", "pk")
    )
    headers = [
        _("Number"),
        _("Title"),
        _("State"),
        _("Category"),
        _("Town"),
        _("Village or community"),
        _("Created at"),
        _("Dispatched at"),
        _("First accepted at"),
        _("Completed at"),
        _("Closed at"),
        _("Handling deadline"),
        _("Response time (minutes)"),
        _("Handling time (hours)"),
        _("Departments invited"),
        _("Departments accepted"),
    ]

    def rows() -> Iterator[list]:
        for case in cases.iterator(chunk_size=CHUNK):
            invitations = list(case.invitations.all())
            grid = case.community.parent
            yield [
                case.number,
                case.title,
                CaseState(case.state).label,
                case.category.name,
                grid.parent.name if grid and grid.parent else "",
                case.community.name,
                case.created_at,
                case.dispatched_at,
                case.first_accepted_at,
                case.completed_at,
                case.closed_at,
                case.deadline,
                _minutes(case.first_accepted_at, case.dispatched_at),
                _hours(case.completed_at, case.first_accepted_at),
                "、".join(sorted({i.department.name for i in invitations})),
                "、".join(
                    sorted(
                        {
                            i.department.name
                            for i in invitations
                            if i.state == InvitationState.ACCEPTED
                        }
                    )
                ),
            ]

    return Sheet(_("Cases"), headers, rows())


SHEETS: dict[str, Callable[[Scope], Sheet]] = {
    "ratings": ratings_sheet,
    "ranking": ranking_sheet,
    "cases": cases_sheet,
}


# ---------------------------------------------------------------- the charts' data
#
# Each chart of the dashboard and of the app's figures screen downloads its
# data as a workbook: the same selector, the same scope, Chinese headers.
# Times are in the unit the chart shows (minutes or hours), unrounded: the
# workbook keeps the exact value and the reader's format decides the digits.


def trend_sheet(scope: Scope, *, bucket: str = "month") -> Sheet:
    """One row per period: its first day, cases raised, closed, overdue (``selectors.trend``)."""
    headers = [_("Period starting"), _("Cases raised"), _("Closed"), _("Overdue cases")]
    rows = (
        [r["period"], r["raised"], r["closed"], r["overdue"]]
        for r in selectors.trend(scope, bucket=bucket)
    )
    return Sheet(_("Cases over time"), headers, rows)


def distributions_sheet(scope: Scope, **_params) -> Sheet:
    """The two histograms, one row per bin, then the mean, median and 90th percentile.

    Columns: measure, row kind, bin start, bin end (empty: open), unit, value
    (cases in the bin, or the figure in the unit, unrounded).
    """
    found = selectors.distributions(scope)
    names = {"response": _("Response time"), "handling": _("Handling time")}
    units = {"minute": _("minutes"), "hour": _("hours")}
    headers = [_("Measure"), _("Row"), _("From"), _("To"), _("Unit"), _("Value")]

    def rows() -> Iterator[list]:
        for key, d in found.items():
            per = d["unit_seconds"]
            unit = units[d["unit"]]
            for b in d["bins"]:
                end = None if b["end"] is None else b["end"] / per
                yield [names[key], _("Cases in the bin"), b["start"] / per, end, unit, b["cases"]]
            for label, figure in (
                (_("Mean"), d["mean"]),
                (_("Median"), d["p50"]),
                (_("90th percentile"), d["p90"]),
            ):
                yield [
                    names[key],
                    label,
                    None,
                    None,
                    unit,
                    None if figure is None else figure / per,
                ]

    return Sheet(_("Time distributions"), headers, rows())


def categories_sheet(scope: Scope, **_params) -> Sheet:
    """One row per category: cases, in the first and second half of the period, the growth."""
    found = selectors.categories(scope, bucket="month", top=1000)
    rising = {r["category"]: r for r in found["rising"]}
    headers = [_("Category"), _("Cases"), _("First half"), _("Second half"), _("Growth")]
    totals = found["totals"]

    def rows() -> Iterator[list]:
        for t in totals:
            r = rising.get(t["category"])
            yield [
                t["name"],
                t["cases"],
                r["first_half"] if r else None,
                r["second_half"] if r else None,
                r["growth"] if r else None,
            ]

    return Sheet(_("Categories"), headers, rows(), formats={4: PERCENT})


def areas_sheet(scope: Scope, **_params) -> Sheet:
    """One row per town, grid and community of the scope with its cases."""
    found = selectors.areas(scope, top=0)
    level_names = {"towns": _("Town"), "grids": _("Grid"), "communities": _("Village or community")}
    headers = [_("Level"), _("Area"), _("Cases")]

    def rows() -> Iterator[list]:
        for key, label in level_names.items():
            for r in found[key]:
                yield [label, r["name"], r["cases"]]

    return Sheet(_("Areas"), headers, rows())


#: The chart exports (``analytics/<chart>/xlsx/``): chart name → sheet builder.
CHART_SHEETS: dict[str, Callable[..., Sheet]] = {
    "trend": trend_sheet,
    "distributions": distributions_sheet,
    "categories": categories_sheet,
    "departments": lambda scope, **_params: ranking_sheet(scope),
    "areas": areas_sheet,
}
