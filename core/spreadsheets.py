"""The shared base of every spreadsheet (django-import-export resource).

- All-or-nothing: an import with any bad row rolls back whole and reports
  every bad row (``import_data`` defaults to rolling back on validation errors
  too, outside the admin as inside it).
- Formula injection: every text cell starting with ``= + - @``, a tab or a
  carriage return is exported with a leading apostrophe (OWASP's advice), in
  xlsx and csv alike; an import strips that apostrophe again, so a file
  round-trips unchanged. (The library's own escaping only drops a leading
  ``=`` and is switched off in settings.)
- Columns are named in the reader's language and rows are matched by natural
  keys (codes, usernames), never by database ids.
- Bounded reading (``read_xlsx``, ``read_csv``, the admin's ``BoundedXLSX`` and
  ``BoundedCSV``): an xlsx is a zip of XML, so 200 KB can unpack to 300,000
  rows. Before openpyxl opens it, the zip's declared sizes are checked (in
  total, ``JINSHAO_IMPORT_MAX_UNPACKED_BYTES``, and per member against
  ``MAX_RATIO``; Python's zipfile never unpacks past a declared size); the sheet
  is then streamed (read-only mode) and reading stops past
  ``JINSHAO_IMPORT_MAX_ROWS`` data rows. A refusal is ``ImportTooLarge``, whose
  translated message names the limit; nothing is imported.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import tablib
from django.conf import settings
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from import_export.results import Result

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """Neutralise a text cell a spreadsheet program would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unescape_cell(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


class ChoiceWidget(widgets.Widget):
    """A choice shown by its label; accepts the stored value or the label in any language."""

    def __init__(self, choices, **kwargs):
        self.choices = choices
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return ""
        text = str(value).strip()
        from django.utils import translation

        for stored, label in self.choices.choices:
            if text in (str(stored), str(label)):
                return stored
            with translation.override("en"):
                if text == str(label):
                    return stored
        allowed = "、".join(str(label) for _v, label in self.choices.choices)
        raise ValueError(
            _("“%(value)s” is not one of: %(allowed)s.") % {"value": text, "allowed": allowed}
        )

    def render(self, value, obj=None, **kwargs):
        if value in (None, ""):
            return ""
        try:
            return str(self.choices(value).label)
        except ValueError:
            return str(value)


class _NumberCleaning:
    """A number cell that is not a number is a clear, translated error."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except (ValueError, ArithmeticError, TypeError):
            raise ValueError(_("“%(value)s” is not a number.") % {"value": value}) from None


class IntegerCellWidget(_NumberCleaning, widgets.IntegerWidget):
    pass


class DecimalCellWidget(_NumberCleaning, widgets.DecimalWidget):
    pass


class YesNoWidget(widgets.BooleanWidget):
    """Booleans as 是/否 (yes/no); accepts 1/0, true/false, yes/no and 是/否."""

    TRUE = {"1", "true", "yes", "y", "是", "√"}
    FALSE = {"0", "false", "no", "n", "否", "×"}

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("Write yes or no (是/否)."))

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return _("yes") if value else _("no")


class CodeListWidget(widgets.ManyToManyWidget):
    """Many-to-many as a comma-separated list of codes; an unknown code is an error."""

    def __init__(self, model, field="code", **kwargs):
        super().__init__(model, field=field, separator=",", **kwargs)

    def clean(self, value, row=None, **kwargs):
        if not value:
            return self.model.objects.none()
        codes = [c.strip() for c in str(value).replace("，", ",").split(",") if c.strip()]
        found = self.model.objects.filter(**{f"{self.field}__in": codes})
        missing = sorted(set(codes) - {str(getattr(o, self.field)) for o in found})
        if missing:
            raise ValueError(_("Unknown code(s): %(codes)s.") % {"codes": ", ".join(missing)})
        return found


class CodeWidget(widgets.ForeignKeyWidget):
    """A foreign key by its natural key; an unknown key is a clear error, not a crash."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        try:
            return super().clean(str(value).strip(), row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                _("No %(model)s with %(field)s “%(value)s”.")
                % {"model": self.model._meta.verbose_name, "field": self.field, "value": value}
            ) from None


def code_field() -> fields.Field:
    return fields.Field(attribute="code", column_name=gettext_lazy("Code"))


def name_field() -> fields.Field:
    return fields.Field(attribute="name", column_name=gettext_lazy("Name"))


def order_field() -> fields.Field:
    return fields.Field(
        attribute="position",
        column_name=gettext_lazy("Order"),
        widget=IntegerCellWidget(),
        default=0,
    )


def active_field() -> fields.Field:
    return fields.Field(
        attribute="is_active",
        column_name=gettext_lazy("Active"),
        widget=YesNoWidget(),
        default=True,
    )


class SpreadsheetResource(resources.ModelResource):
    """Base of every resource: validation, all-or-nothing, formula escaping.

    ``select_related`` and ``prefetch_related`` are applied to every export,
    also to the admin's (which passes its own changelist queryset), so an
    export costs a fixed number of queries whatever its length.
    """

    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    class Meta:
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=True,
        **kwargs,
    ) -> Result:
        result = super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=use_transactions,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=rollback_on_validation_errors,
            **kwargs,
        )
        if not dry_run:  # a real import, whoever made it (admin or import_sheet): audited
            from audit.services import record

            totals = result.totals
            record(
                f"import.{self._meta.model._meta.model_name}",
                actor=kwargs.get("user"),
                success=not (result.has_errors() or result.has_validation_errors()),
                details={
                    "file": str(kwargs.get("file_name") or ""),
                    "rows": len(dataset),
                    "new": totals.get("new", 0),
                    "updated": totals.get("update", 0),
                    "deleted": totals.get("delete", 0),
                },
            )
        return result

    def with_related(self, queryset):
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def filter_export(self, queryset, **kwargs):
        return self.with_related(super().filter_export(queryset, **kwargs))

    def before_import_row(self, row, **kwargs):
        for key in list(row.keys()):
            row[key] = unescape_cell(row[key])

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        # An empty cell reads as None; text columns store "" instead.
        for field in instance._meta.concrete_fields:
            if (
                isinstance(field, models.CharField | models.TextField)
                and not field.null
                and getattr(instance, field.attname) is None
            ):
                setattr(instance, field.attname, "")

    def export(self, *args, **kwargs) -> tablib.Dataset:
        dataset = super().export(*args, **kwargs)
        escaped = tablib.Dataset(headers=dataset.headers, title=dataset.title)
        for row in dataset:
            escaped.append([escape_cell(cell) for cell in row])
        return escaped


def _row_message(number: int, error) -> str:
    # import-export counts data rows from 1; in the file that row is one line
    # further down, below the header line.
    return _("Row %(row)s (line %(line)s of the file): %(error)s") % {
        "row": number,
        "line": number + 1,
        "error": error,
    }


def describe_errors(result: Result, resource: resources.Resource | None = None) -> list[str]:
    """Every problem of an import, one line each, with its row and the column's name."""
    columns = {}
    if resource is not None:
        columns = {f.attribute: str(f.column_name) for f in resource.fields.values() if f.attribute}
    lines = [str(e.error) for e in result.base_errors]
    for number, errors in result.row_errors():
        for error in errors:
            lines.append(_row_message(number, error.error))
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            label = "" if field == "__all__" else f"{columns.get(field, field)}: "
            for message in messages:
                lines.append(_row_message(invalid.number, f"{label}{message}"))
    return lines


# ------------------------------------------------------------------ bounded reading

#: A sheet member that unpacks to more than this many times its packed size is
#: refused (real sheets stay well under 30; members under 1 MB unpacked are let be).
MAX_RATIO = 100
_RATIO_FLOOR = 1024 * 1024
#: Columns read per row: wider than any resource, so extra columns are simply not read.
MAX_COLUMNS = 100


class ImportTooLarge(ValueError):
    """A spreadsheet over one of the import bounds; the message names the bound."""


def _too_many_rows(limit: int) -> ImportTooLarge:
    return ImportTooLarge(
        _(
            "The sheet has more than %(limit)s data rows; at most %(limit)s can be imported "
            "at once. Split it into several files."
        )
        % {"limit": f"{limit:,}"}
    )


def check_xlsx_archive(data: bytes, *, max_unpacked: int | None = None) -> None:
    """Refuse an xlsx whose zip declares too much, before anything is unpacked.

    Raises ``ImportTooLarge`` when the members together declare more than
    ``max_unpacked`` bytes (``JINSHAO_IMPORT_MAX_UNPACKED_BYTES`` by default) or a
    large member declares more than ``MAX_RATIO`` times its packed size;
    ``zipfile.BadZipFile`` when it is no zip at all.
    """
    limit = settings.JINSHAO_IMPORT_MAX_UNPACKED_BYTES if max_unpacked is None else max_unpacked
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
    if sum(m.file_size for m in members) > limit:
        raise ImportTooLarge(
            _("The workbook is too large once unpacked: more than %(size)s.")
            % {"size": filesizeformat(limit)}
        )
    for member in members:
        if member.file_size > _RATIO_FLOOR and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise ImportTooLarge(
                _(
                    "The workbook unpacks to more than %(ratio)s times its size "
                    "(%(name)s); it is refused as a possible zip bomb."
                )
                % {"ratio": MAX_RATIO, "name": member.filename}
            )


def read_xlsx(data: bytes, *, max_rows: int | None = None) -> tablib.Dataset:
    """The first sheet of an xlsx as a dataset (first row: headers), within the bounds.

    Raises ``ImportTooLarge`` (see ``check_xlsx_archive``, and past ``max_rows``
    data rows, ``JINSHAO_IMPORT_MAX_ROWS`` by default); whatever openpyxl or
    zipfile raise for a file that is not a workbook.
    """
    import openpyxl

    limit = settings.JINSHAO_IMPORT_MAX_ROWS if max_rows is None else max_rows
    check_xlsx_archive(data)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        rows = book.active.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        dataset = tablib.Dataset()
        dataset.headers = list(next(rows, ()))
        ignore_blanks = getattr(settings, "IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES", False)
        for values in rows:
            if ignore_blanks and all(value is None for value in values):
                continue
            if len(dataset) >= limit:
                raise _too_many_rows(limit)
            dataset.append(list(values) + [None] * (len(dataset.headers) - len(values)))
    finally:
        book.close()
    return dataset


def check_csv_rows(text: str, *, max_rows: int | None = None) -> None:
    """Refuse (``ImportTooLarge``) a csv text of more than ``max_rows`` data rows."""
    limit = settings.JINSHAO_IMPORT_MAX_ROWS if max_rows is None else max_rows
    for count, _row in enumerate(csv.reader(io.StringIO(text))):
        if count > limit:  # the header line and ``limit`` data rows are fine
            raise _too_many_rows(limit)


def read_csv(text: str, *, max_rows: int | None = None) -> tablib.Dataset:
    """A csv text as a dataset (first line: headers), within ``check_csv_rows``."""
    check_csv_rows(text, max_rows=max_rows)
    return tablib.Dataset().load(text, format="csv")


class BoundedXLSX(XLSX):
    """The admin's xlsx import, read by ``read_xlsx``."""

    def create_dataset(self, in_stream, **kwargs):
        return read_xlsx(in_stream)


class BoundedCSV(CSV):
    """The admin's csv import, read by ``read_csv``."""

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8")
        check_csv_rows(in_stream)
        return super().create_dataset(in_stream, **kwargs)


class SpreadsheetAdmin(ImportExportModelAdmin):
    """Base of every admin with spreadsheet import: bounded reading, and its refusals shown.

    The library words any failure to read a file as "<exception name>
    encountered"; a bound that was hit is said in full instead.
    """

    @property
    def import_formats(self):
        return [BoundedXLSX, BoundedCSV]

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportTooLarge):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)
