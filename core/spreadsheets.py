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
- Encodings Chinese offices save (``decode_text``): a byte-order mark first
  (UTF-8, UTF-16 LE/BE: Excel's "CSV UTF-8" and "Unicode text"), then strict
  UTF-8, then GB18030 (the superset of GBK and GB2312 that Chinese Excel and
  WPS write as "CSV"). A file none of these read is refused, translated.
- Columns are checked before any row is read (``SpreadsheetResource.match_headers``):
  every header is matched to a column by its label in Chinese or English, its
  field name or a well-known alias (姓名/名字, 联系电话/电话/手机…); an unknown,
  missing or repeated column refuses the file and the refusal lists the
  expected headers.
- A NUL character in a cell (PostgreSQL refuses it in text) is a row error
  naming the row and the column.
- Problems (``describe_problems``) carry the row as Excel numbers it (the
  header is row 1), so the admin and ``import_sheet`` say the same.
"""

from __future__ import annotations

import codecs
import copy
import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any, ClassVar

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.admin import ExportMixin, ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import SelectableFieldsExportForm
from import_export.results import Error, Result

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
    """A foreign key by its natural key; an unknown key is a clear error, not a crash.

    ``prime(values)`` reads the objects of all those keys in one query (an import
    calls it with the column's cells, ``SpreadsheetResource.before_import``);
    ``clean`` then looks a key up there instead of querying once per cell.
    """

    _known: dict[str, Any] | None = None

    def prime(self, values) -> None:
        keys = {str(v).strip() for v in values if v not in (None, "")}
        found = self.get_queryset(None, None).filter(**{f"{self.field}__in": keys})
        self._known = {str(getattr(o, self.field)): o for o in found}

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        try:
            if self._known is not None:
                try:
                    return self._known[str(value).strip()]
                except KeyError:
                    raise self.model.DoesNotExist from None
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


#: Headers clerks write for the columns most sheets share, by field name.
COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("编码", "编号"),
    "position": ("序号", "顺序"),
    "is_active": ("启用", "是否启用", "在用", "有效", "是否有效", "active"),
    "phone": ("联系电话", "电话", "手机", "手机号", "手机号码", "联系方式"),
}


class HeaderError(ValueError):
    """A sheet whose header row does not match its columns; nothing of it is read."""


def header_key(text: str) -> str:
    """A header as compared: full-width forms folded (（）→()), case, spaces and ``_`` ignored."""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "_*")


def column_letter(index: int) -> str:
    """Excel's letters for a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def sheet_title(name: Any) -> str:
    """A worksheet name from ``name``: at most 31 characters, none of ``[]:*?/\\``."""
    text = "".join(ch for ch in str(name) if ch not in "[]:*?/\\").strip("'")
    return text[:31] or "Sheet1"


def header_refusals(
    unknown: list[str],
    missing: list[str],
    twice: list[str],
    unnamed: list[str],
    expected: list[str],
) -> list[HeaderError]:
    """The sentences refusing a header row (none when it is right), the expected headers last."""
    refusals = []
    if unknown:
        refusals.append(_("Unknown column(s): %(columns)s.") % {"columns": "、".join(unknown)})
    if missing:
        refusals.append(_("Missing column(s): %(columns)s.") % {"columns": "、".join(missing)})
    if twice:
        refusals.append(
            _("The same column given twice: %(columns)s.") % {"columns": "；".join(twice)}
        )
    if unnamed:
        refusals.append(
            _("Column(s) %(letters)s hold data but have no header.")
            % {"letters": "、".join(unnamed)}
        )
    if refusals:
        refusals.append(
            _("Row 1 of the sheet must name these columns: %(columns)s.")
            % {"columns": "、".join(expected)}
        )
    return [HeaderError(text) for text in refusals]


class SpreadsheetResource(resources.ModelResource):
    """Base of every resource: validation, all-or-nothing, formula escaping.

    ``select_related`` and ``prefetch_related`` are applied to every export,
    also to the admin's (which passes its own changelist queryset), so an
    export costs a fixed number of queries whatever its length.
    """

    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    #: Other headers a clerk writes for a column, by field name; added to
    #: ``COMMON_ALIASES`` and to each column's own label in Chinese and English.
    header_aliases: ClassVar[dict[str, tuple[str, ...]]] = {}

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
        dataset, refusals = self.match_headers(dataset)
        if refusals:  # nothing is read: the columns are not the ones this sheet has
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            for refusal in refusals:
                result.append_base_error(Error(refusal))
        else:
            # Each cell is found by its column's name, a lazy translation that would be
            # translated again at every lookup (a tenth of an import's time): the names
            # are fixed as text while the rows are read, then given back.
            if not dry_run:
                # A real import shows no preview: its rows' diffs are compared (for
                # unchanged rows) but not drawn as HTML. Options of this instance only.
                meta = copy.copy(self._meta)
                meta.skip_html_diff = True
                self.__dict__["_meta"] = meta  # shadows the class's options on this instance
            lazy = {name: field.column_name for name, field in self.fields.items()}
            for field in self.fields.values():
                field.column_name = str(field.column_name)
            try:
                result = super().import_data(
                    dataset,
                    dry_run=dry_run,
                    raise_errors=raise_errors,
                    use_transactions=use_transactions,
                    collect_failed_rows=collect_failed_rows,
                    rollback_on_validation_errors=rollback_on_validation_errors,
                    **kwargs,
                )
            finally:
                for name, field in self.fields.items():
                    field.column_name = lazy[name]
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

    def before_import(self, dataset, **kwargs):
        """Reads the objects every code column names once (``CodeWidget.prime``).

        Not a column naming the sheet's own model (an area's parent): a row may name
        one an earlier row of the same file creates.
        """
        super().before_import(dataset, **kwargs)
        for field in self.get_import_fields():
            column = str(field.column_name)
            widget = field.widget
            if (
                isinstance(widget, CodeWidget)
                and widget.model is not self._meta.model
                and column in dataset.headers
            ):
                field.widget.prime(dataset[column])

    def with_related(self, queryset):
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def filter_export(self, queryset, **kwargs):
        return self.with_related(super().filter_export(queryset, **kwargs))

    # -------------------------------------------------------------- columns

    def column_names(self, name: str, field: fields.Field) -> set[str]:
        """Every header accepted for the column ``name`` (normalised by ``header_key``)."""
        names = {name, str(field.column_name), *COMMON_ALIASES.get(name, ())}
        names.update(self.header_aliases.get(name, ()))
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names.add(str(field.column_name))
        return {header_key(n) for n in names}

    def match_headers(self, dataset: tablib.Dataset) -> tuple[tablib.Dataset, list[HeaderError]]:
        """The dataset with its headers renamed to this sheet's columns, and the refusals.

        Empty trailing columns are dropped. The refusals (``HeaderError``, each a
        translated sentence) name unknown, missing and repeated columns, a column
        without a header that holds data, and then the headers expected; when there
        are refusals the dataset is returned unchanged.
        """
        names = {id(field): name for name, field in self.fields.items()}
        columns = {names[id(field)]: field for field in self.get_import_fields()}  # sheet order
        lookup: dict[str, str] = {}
        for name, field in columns.items():
            for key in self.column_names(name, field):
                lookup.setdefault(key, name)
        headers = list(dataset.headers or [])
        width = max([len(headers)] + [len(row) for row in dataset])
        headers += [None] * (width - len(headers))
        keep: list[int] = []
        unknown: list[str] = []
        unnamed: list[str] = []
        seen: dict[str, list[str]] = {}
        for index, header in enumerate(headers):
            text = "" if header is None else str(header).strip()
            if not text:
                if any(index < len(row) and row[index] not in (None, "") for row in dataset):
                    unnamed.append(column_letter(index))
                continue
            name = lookup.get(header_key(text))
            if name is None:
                unknown.append(text)
                continue
            seen.setdefault(name, []).append(text)
            keep.append(index)
        missing = [str(columns[n].column_name) for n in columns if n not in seen]
        twice = ["、".join(given) for given in seen.values() if len(given) > 1]
        expected = [str(field.column_name) for field in columns.values()]
        refusals = header_refusals(unknown, missing, twice, unnamed, expected)
        if refusals:
            return dataset, refusals
        renamed = tablib.Dataset(title=dataset.title)
        renamed.headers = [
            str(columns[lookup[header_key(str(headers[i]))]].column_name) for i in keep
        ]
        for row in dataset:
            renamed.append([row[i] if i < len(row) else None for i in keep])
        return renamed, []

    def before_import_row(self, row, **kwargs):
        for key in list(row.keys()):
            row[key] = unescape_cell(row[key])
        nul = [key for key, value in row.items() if isinstance(value, str) and "\x00" in value]
        if nul:
            # PostgreSQL refuses NUL in text, SQLite would store it: refused on both alike.
            by_label = {str(f.column_name): f.attribute for f in self.get_import_fields()}
            message = _(
                "The cell holds a NUL character (a zero byte), which cannot be stored: remove it."
            )
            raise ValidationError(
                {by_label.get(str(key)) or NON_FIELD_ERRORS: [message] for key in nul}
            )

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
        title = dataset.title or sheet_title(self._meta.model._meta.verbose_name_plural)
        escaped = tablib.Dataset(headers=dataset.headers, title=title)
        for row in dataset:
            escaped.append([escape_cell(cell) for cell in row])
        return escaped


@dataclass(frozen=True)
class Problem:
    """One problem of an import.

    ``row``: the data row as import-export counts it (1 = the first row under the
    headers), ``None`` for the file as a whole; ``line``: the same row as Excel
    numbers it (the header row is 1, so ``row + 1``); ``column``: the column's
    header, "" when the problem is the row's or the file's; ``message``: translated.
    """

    row: int | None
    line: int | None
    column: str
    message: str


def describe_problems(result: Result, resource: resources.Resource | None = None) -> list[Problem]:
    """Every problem of an import, in row order: header refusals first (Excel row 1)."""
    columns: dict[str, str] = {}
    if resource is not None:
        columns = {f.attribute: str(f.column_name) for f in resource.fields.values() if f.attribute}
    problems = [
        Problem(None, 1 if isinstance(e.error, HeaderError) else None, "", str(e.error))
        for e in result.base_errors
    ]
    by_row: list[Problem] = []
    for number, errors in result.row_errors():
        by_row += [Problem(number, number + 1, "", str(error.error)) for error in errors]
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            label = "" if field == NON_FIELD_ERRORS else columns.get(field, field)
            by_row += [Problem(invalid.number, invalid.number + 1, label, str(m)) for m in messages]
    return problems + sorted(by_row, key=lambda p: p.row or 0)


def describe_errors(result: Result, resource: resources.Resource | None = None) -> list[str]:
    """Every problem of an import, one line each, with its row and the column's name."""
    lines = []
    for problem in describe_problems(result, resource):
        text = f"{problem.column}: {problem.message}" if problem.column else problem.message
        if problem.row is not None:
            text = _("Row %(row)s (line %(line)s of the file): %(error)s") % {
                "row": problem.row,
                "line": problem.line,
                "error": text,
            }
        lines.append(text)
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


class UnreadableText(ValueError):
    """A text file in none of the encodings ``decode_text`` reads; the message says what to do."""


#: Byte-order marks, longest first; Excel writes the UTF-8 one ("CSV UTF-8") and
#: the UTF-16 LE one ("Unicode text").
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes) -> str:
    """The text of a csv as Chinese offices save it.

    A byte-order mark decides (UTF-8, UTF-16 LE or BE); without one, strict
    UTF-8, then GB18030 (a superset of GBK and GB2312: Chinese Excel's and WPS's
    plain "CSV"). A deterministic rule, not a guess: a GBK text with Chinese in
    it is practically never valid UTF-8, and pure ASCII reads the same in both.
    Raises ``UnreadableText`` when none of them reads the bytes.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break
    else:
        for encoding in ("utf-8", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise UnreadableText(
        _(
            "The file's characters cannot be read: save it from Excel or WPS as "
            "“CSV UTF-8”, as CSV, or as an Excel workbook (.xlsx)."
        )
    )


def csv_delimiter(text: str) -> str:
    """A tab when the header line has tabs and no comma (Excel's "Unicode text"), else a comma."""
    first = text.split("\n", 1)[0]
    return "\t" if "\t" in first and "," not in first else ","


def check_csv_size(size: int) -> None:
    """Refuse (``ImportTooLarge``) a csv of more than ``JINSHAO_IMPORT_MAX_UNPACKED_BYTES``
    bytes, the bound an xlsx has once unpacked, before it is decoded or parsed."""
    limit = settings.JINSHAO_IMPORT_MAX_UNPACKED_BYTES
    if size > limit:
        raise ImportTooLarge(
            _("The file is too large: more than %(size)s.") % {"size": filesizeformat(limit)}
        )


def check_csv_rows(text: str, *, max_rows: int | None = None, delimiter: str = ",") -> None:
    """Refuse (``ImportTooLarge``) a csv text of more than ``max_rows`` data rows, or a
    row of more than ``MAX_COLUMNS`` cells (an xlsx is read no wider)."""
    limit = settings.JINSHAO_IMPORT_MAX_ROWS if max_rows is None else max_rows
    for count, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter)):
        if count > limit:  # the header line and ``limit`` data rows are fine
            raise _too_many_rows(limit)
        if len(row) > MAX_COLUMNS:
            raise ImportTooLarge(
                _("Row %(row)s has more than %(limit)s columns.")
                % {"row": count + 1, "limit": MAX_COLUMNS}
            )


def read_csv(data: bytes | str, *, max_rows: int | None = None) -> tablib.Dataset:
    """A csv file (bytes, read by ``decode_text``; or text) as a dataset (first line:
    headers), within ``check_csv_rows``. Tab-separated text ("Unicode text") too."""
    check_csv_size(len(data) if isinstance(data, bytes) else len(data.encode()))
    text = decode_text(data) if isinstance(data, bytes) else data
    text = text.removeprefix("\ufeff")
    delimiter = csv_delimiter(text)
    check_csv_rows(text, max_rows=max_rows, delimiter=delimiter)
    return tablib.Dataset().load(text, format="csv", delimiter=delimiter)


class BoundedXLSX(XLSX):
    """The admin's xlsx import, read by ``read_xlsx``."""

    def create_dataset(self, in_stream, **kwargs):
        return read_xlsx(in_stream)


class BoundedCSV(CSV):
    """The admin's csv import, read by ``read_csv`` from the file's bytes.

    Read as bytes (``is_binary``), so the encoding is found by ``decode_text``
    rather than imposed by the admin (import-export would decode UTF-8 only).
    """

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        return read_csv(in_stream)


class ColumnLabelExportForm(SelectableFieldsExportForm):
    """The export page's column choices, labelled by the columns' own (translated) headers.

    The library labels them "Code (代码)": the field name in English, then the header.
    """

    def _get_field_label(self, resource, field_name: str) -> str:
        # An instance's fields: some resources add columns per instance (one per criterion).
        cache = self.__dict__.setdefault("_columns", {})
        if resource not in cache:
            cache[resource] = resource().fields
        field = cache[resource].get(field_name)
        return str(field.column_name) if field is not None else field_name


class SpreadsheetExportMixin(ExportMixin):
    """Export pages labelled in the reader's language (see ``ColumnLabelExportForm``)."""

    export_form_class = ColumnLabelExportForm


class SpreadsheetAdmin(SpreadsheetExportMixin, ImportExportModelAdmin):
    """Base of every admin with spreadsheet import: bounded reading, and its refusals shown.

    The library words any failure to read a file as "<exception name>
    encountered"; a bound that was hit, an encoding that cannot be read, is said
    in full instead. A bad file's page lists every problem, in plain view, with
    the row as Excel numbers it (``describe_problems``;
    ``core/templates/admin/import_export/spreadsheet_import.html``).
    """

    import_template_name = "admin/import_export/spreadsheet_import.html"

    @property
    def import_formats(self):
        return [BoundedXLSX, BoundedCSV]

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportTooLarge | UnreadableText):
            form.add_error("import_file", str(e))
        else:
            form.add_error(
                "import_file",
                _(
                    "The file cannot be read as the format chosen: check the format, or "
                    "save the sheet from Excel as .xlsx and try again."
                ),
            )

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None)
        if isinstance(response, TemplateResponse) and context and context.get("result"):
            resources = self.get_import_resource_classes(request)
            resource = resources[0](**self.get_import_resource_kwargs(request))
            context["problems"] = describe_problems(context["result"], resource)
        return response
