"""Streaming a sheet out as CSV or XLSX, without holding its rows in memory.

CSV streams straight to the client, UTF-8 with a BOM so spreadsheet programs
read the Chinese. XLSX is written by openpyxl's write-only mode into a
temporary file, which is then streamed. Text cells that a spreadsheet program
would run as a formula are escaped. A column given a number format (``Sheet.formats``,
e.g. ``PERCENT`` for a ratio) carries it in the workbook; in CSV such a ratio is
written as a percentage ("81.8%"), which spreadsheet programs read back as the number.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise

from core.spreadsheets import escape_cell

#: Excel's number format for a ratio shown as a percentage with one decimal (0.8182 → 81.8%).
PERCENT = "0.0%"


@dataclass
class Sheet:
    """A sheet to stream: its (worksheet) name, headers, rows, and number formats by column index."""

    name: str
    headers: list[str]
    rows: Iterable[list]
    formats: dict[int, str] = field(default_factory=dict)


def _csv_cell(value, number_format: str | None):
    if number_format == PERCENT and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.1%}"
    return cell(value)


def cell(value):
    """A value as a spreadsheet cell: local times, no None, formulas escaped."""
    if isinstance(value, Promise):  # a lazily translated label
        value = str(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if value is None:
        return ""
    return escape_cell(value)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(sheet: Sheet, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # a BOM: spreadsheet programs then read UTF-8
        yield writer.writerow([cell(h) for h in sheet.headers])
        for row in sheet.rows:
            yield writer.writerow([_csv_cell(v, sheet.formats.get(i)) for i, v in enumerate(row)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename={filename}.csv"
    return response


def xlsx_response(sheet: Sheet, filename: str) -> FileResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    page = book.create_sheet(title=str(sheet.name)[:31])
    page.append([cell(h) for h in sheet.headers])

    def formatted(index: int, value):
        value = cell(value)
        number_format = sheet.formats.get(index)
        if number_format is None or value == "":
            return value
        written = WriteOnlyCell(page, value)
        written.number_format = number_format
        return written

    for row in sheet.rows:
        page.append([formatted(i, v) for i, v in enumerate(row)])
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by FileResponse once sent
    book.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
