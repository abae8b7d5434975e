"""Spreadsheets for auditors: ratings, the ranking, the case list with its times.

Rows are read in chunks (``iterator``) and written out as they come, so 100,000
rows never sit in memory at once. CSV streams straight to the client (UTF-8
with a BOM, so spreadsheet programs read the Chinese). XLSX is written by
openpyxl's write-only mode into a temporary file, which is then streamed.
Text cells that a spreadsheet program would run as a formula are escaped.
Nothing here names the person who rated (no such column exists).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from analytics import selectors
from analytics.scope import Scope
from cases.choices import CaseState, InvitationState
from cases.models import Invitation
from core.spreadsheets import escape_cell
from ratings.models import Criterion, Rating

CHUNK = 2000


@dataclass
class Sheet:
    name: str
    headers: list[str]
    rows: Iterable[list]


def _cell(value):
    if isinstance(value, Promise):  # a lazily translated label
        value = str(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if value is None:
        return ""
    return escape_cell(value)


def _minutes(end, start):
    return round((end - start).total_seconds() / 60, 1) if end and start else None


def _hours(end, start):
    return round((end - start).total_seconds() / 3600, 2) if end and start else None


def ratings_sheet(scope: Scope) -> Sheet:
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
        _("Ratings"),
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
                row["ratings"],
                row["rating_mean"],
                *[row["criteria"].get(c.code) for c in criteria],
            ]

    return Sheet(_("Ranking"), headers, rows())


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


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(sheet: Sheet, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # a BOM: spreadsheet programs then read UTF-8
        yield writer.writerow([_cell(h) for h in sheet.headers])
        for row in sheet.rows:
            yield writer.writerow([_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename={filename}.csv"
    return response


def xlsx_response(sheet: Sheet, filename: str) -> FileResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    page = book.create_sheet(title=str(sheet.name)[:31])
    page.append([_cell(h) for h in sheet.headers])
    for row in sheet.rows:
        page.append([_cell(v) for v in row])
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by FileResponse once sent
    book.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
