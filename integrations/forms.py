"""Forms of the integration back office: a system and its secret, the review
queue's two decisions, and the one-click import of platform cases (a sheet
read into rows, then the rows carried signed to the confirmation)."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core import signing
from django.core.validators import URLValidator
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.spreadsheets import ImportTooLarge, check_xlsx_archive
from grids.models import Area
from integrations.models import AreaMapping, CategoryMapping, ExternalSystem, new_secret
from templates.choices import Priority
from templates.models import CaseTemplate

#: Bounds of one import: the file as uploaded, the workbook unpacked, the rows.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ROWS = 2000
MAX_COLUMNS = 30
MAX_PASTED_CHARS = 2_000_000
#: A preview may be confirmed within this time, by the person who made it.
CONFIRM_MAX_AGE_SECONDS = 3600
CONFIRM_SALT = "integrations.admin_import"


def _autocomplete(model, field_name: str) -> AutocompleteSelect:
    # The mapping's own field: its limit (communities only) applies to the search too.
    return AutocompleteSelect(model._meta.get_field(field_name), admin.site)


# ------------------------------------------------------------------ systems


class ExternalSystemForm(forms.ModelForm):
    """A system without its secret: the secret is replaced here, never shown back."""

    callback_url = forms.URLField(
        label=gettext_lazy("callback URL"),
        required=False,
        max_length=200,
        assume_scheme="https",
        validators=[URLValidator(schemes=["https", "http"])],
        help_text=gettext_lazy(
            "Where status changes of its cases are sent (http or https). Empty: nothing is sent."
        ),
    )
    new_secret = forms.CharField(
        label=gettext_lazy("Enter a new secret"),
        required=False,
        min_length=16,
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("The secret agreed with the other system (at least 16 characters)."),
    )
    generate_secret = forms.BooleanField(
        label=gettext_lazy("Generate a new secret"),
        required=False,
        help_text=gettext_lazy(
            "The old secret stops working at once; the new one is shown once, after saving."
        ),
    )

    class Meta:
        model = ExternalSystem
        fields = ("code", "name", "source", "callback_url", "is_active")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("new_secret") and data.get("generate_secret"):
            raise forms.ValidationError(_("Enter a secret or generate one, not both."))
        return data

    def save(self, commit: bool = True) -> ExternalSystem:
        """Set the replacing secret; ``secret_to_show`` holds it for the one page that shows it."""
        system = super().save(commit=False)
        self.secret_to_show = ""
        if self.cleaned_data.get("new_secret"):
            system.secret = self.cleaned_data["new_secret"]
        elif self.cleaned_data.get("generate_secret"):
            system.secret = new_secret()
        if self.cleaned_data.get("new_secret") or self.cleaned_data.get("generate_secret"):
            self.secret_to_show = system.secret
        elif system._state.adding:
            self.secret_to_show = system.secret  # the default one, made with the row
        if commit:
            system.save()
        return system


# ------------------------------------------------------------------ review queue


class ResolveReviewForm(forms.Form):
    """Make the case of a delivery that waits for review (``services.resolve_review``)."""

    template = forms.ModelChoiceField(
        CaseTemplate.objects.filter(is_active=True),
        label=gettext_lazy("Template"),
        widget=_autocomplete(CategoryMapping, "template"),
    )
    community = forms.ModelChoiceField(
        Area.objects.communities(),
        label=gettext_lazy("Village or community"),
        widget=_autocomplete(AreaMapping, "community"),
    )
    remember = forms.BooleanField(
        label=gettext_lazy("Remember these mappings"),
        required=False,
        initial=True,
        help_text=gettext_lazy(
            "Their category and area codes map to this template and community from now on."
        ),
    )


class DismissReviewForm(forms.Form):
    """Drop a delivery that should not become a case (``services.dismiss_review``)."""

    note = forms.CharField(
        label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


# ------------------------------------------------------------------ one-click import

#: Our column → the headers it is known by (case and spaces ignored).
COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "编号", "外部编号", "案件编号"),
    "category_code": ("category_code", "类别代码", "类别编码"),
    "area_code": ("area_code", "区域代码", "区域编码"),
    "title": ("title", "标题"),
    "description": ("description", "描述"),
    "address": ("address", "地址"),
    "latitude": ("latitude", "纬度"),
    "longitude": ("longitude", "经度"),
    "priority": ("priority", "优先级"),
}
REQUIRED_COLUMNS = ("external_id", "category_code", "area_code")
#: How a column is named to the reader (in previews and row errors).
COLUMN_LABELS = {
    "external_id": gettext_lazy("their id"),
    "category_code": gettext_lazy("category code"),
    "area_code": gettext_lazy("area code"),
    "title": gettext_lazy("title"),
    "description": gettext_lazy("description"),
    "address": gettext_lazy("address"),
    "latitude": gettext_lazy("latitude"),
    "longitude": gettext_lazy("longitude"),
    "priority": gettext_lazy("priority"),
    "reported_at": gettext_lazy("reported at"),
    "answers": gettext_lazy("template answers"),
}
_ALIASES = {alias.casefold(): key for key, aliases in COLUMNS.items() for alias in aliases}


def _header_key(value: Any) -> str | None:
    text = "" if value is None else str(value).strip().casefold().replace(" ", "_")
    return _ALIASES.get(text)


def _cell_text(value: Any) -> str:
    """A cell as the text the platform would have sent (1234.0 from Excel is 1234)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(str(value)))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


def _priority_value(text: str) -> str:
    """A priority by its code or its label in Chinese or English; anything else as given."""
    for value, label in Priority.choices:
        for language in (None, "zh-hans", "en"):
            if language is None:
                shown = str(label)
            else:
                with translation.override(language):
                    shown = str(label)
            if text.casefold() in (value, shown.casefold()):
                return value
    return text


def read_workbook(upload) -> list[tuple]:
    """The first sheet's rows; a file that is not a real .xlsx is refused, not guessed at."""
    import openpyxl

    if upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(
            _("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    not_xlsx = forms.ValidationError(
        _("This file is not an Excel workbook (.xlsx). Save it as .xlsx, or paste the rows.")
    )
    upload.seek(0)
    if upload.read(4) != b"PK\x03\x04":
        raise not_xlsx
    try:
        upload.seek(0)
        try:
            check_xlsx_archive(upload.read(), max_unpacked=MAX_UNPACKED_BYTES)
        except ImportTooLarge as exc:
            raise forms.ValidationError(str(exc)) from None
        upload.seek(0)
        book = openpyxl.load_workbook(upload, read_only=True, data_only=True)
        try:
            rows: list[tuple] = []
            for values in book.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS):
                rows.append(values)
                if len(rows) > MAX_ROWS + 1:
                    break
        finally:
            book.close()
    except forms.ValidationError:
        raise
    except Exception:  # openpyxl fails in many ways on a broken or foreign file
        raise not_xlsx from None
    return rows


def read_pasted(text: str) -> list[tuple]:
    """Rows copied from Excel: tab-separated, cells with line breaks in quotes."""
    if len(text) > MAX_PASTED_CHARS:
        raise forms.ValidationError(_("Too much text: split it into several imports."))
    return [tuple(row) for row in csv.reader(io.StringIO(text.strip("\r\n")), delimiter="\t")]


def rows_from_table(table: list[tuple]) -> list[dict[str, str]]:
    """Rows as ``{column: text}`` with their line in the file (``line``); headers first."""
    table = [row for row in table if any(_cell_text(cell) for cell in row)]
    if not table:
        raise forms.ValidationError(_("There are no rows to import."))
    keys = [_header_key(cell) for cell in table[0]]
    missing = [name for name in REQUIRED_COLUMNS if name not in keys]
    if missing:
        raise forms.ValidationError(
            _("The first line must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(missing)}
        )
    if len(table) - 1 > MAX_ROWS:
        raise forms.ValidationError(
            _("At most %(n)s rows at once: split the file.") % {"n": MAX_ROWS}
        )
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        row = {"line": str(line), **dict.fromkeys(COLUMNS, "")}
        for key, cell in zip(keys, cells, strict=False):
            if key is not None:
                row[key] = _cell_text(cell)
        if row.get("priority"):
            row["priority"] = _priority_value(row["priority"])
        rows.append(row)
    return rows


class PlatformImportForm(forms.Form):
    """Step 1: a system and its cases, from an .xlsx file or pasted from Excel."""

    system = forms.ModelChoiceField(
        ExternalSystem.objects.filter(is_active=True), label=gettext_lazy("External system")
    )
    file = forms.FileField(
        label=gettext_lazy("Excel workbook (.xlsx)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
    text = forms.CharField(
        label=gettext_lazy("Or paste the rows"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 100}),
        help_text=gettext_lazy(
            "Copied from Excel, the first line naming the columns: external_id (编号), "
            "category_code (类别代码), area_code (区域代码), title (标题), description (描述), "
            "address (地址), latitude (纬度), longitude (经度), priority (优先级)."
        ),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        upload, text = data.get("file"), (data.get("text") or "").strip()
        if bool(upload) == bool(text):
            raise forms.ValidationError(_("Upload a workbook or paste rows (one of the two)."))
        table = read_workbook(upload) if upload else read_pasted(data["text"])
        data["rows"] = rows_from_table(table)
        return data


def sign_rows(*, system: ExternalSystem, user, rows: list[dict[str, str]]) -> str:
    """The previewed rows, signed for the confirmation (nothing kept on the server)."""
    payload = {"system": system.pk, "user": user.pk, "rows": rows}
    return signing.dumps(payload, salt=CONFIRM_SALT, compress=True)


class ImportConfirmForm(forms.Form):
    """Step 2: the rows exactly as previewed, by the person who previewed them."""

    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_token(self) -> dict[str, Any]:
        refused = forms.ValidationError(
            _("This confirmation was changed or has expired: upload the rows again.")
        )
        try:
            payload = signing.loads(
                self.cleaned_data["token"], salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE_SECONDS
            )
        except signing.BadSignature:
            raise refused from None
        if not isinstance(payload, dict) or payload.get("user") != self.user.pk:
            raise refused
        system_id = payload.get("system")
        if not isinstance(system_id, int):
            raise refused
        system = ExternalSystem.objects.filter(pk=system_id, is_active=True).first()
        if system is None:
            raise refused
        return {"system": system, "rows": payload.get("rows") or []}
