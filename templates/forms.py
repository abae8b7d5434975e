"""A case template's questions as Django form fields, and its answers as label → text.

The back office raises and edits cases with one form field per ``TemplateField``
(``answer_fields``); what a person typed is checked by the same
``templates.services.validate_answers`` the API calls (``clean_answers``), so
the admin refuses exactly what the phone would, with the same messages.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed
from templates.choices import FieldKind
from templates.models import CaseTemplate, TemplateField
from templates.services import MAX_PHOTOS, MAX_TEXT_LENGTH, validate_answers

#: Form fields of a template's questions are named ``answer_<key>``.
PREFIX = "answer_"


def _form_field(field: TemplateField) -> forms.Field:
    """One question as a form field. Every field is optional to Django: whether an
    answer is required, and what it may be, is ``validate_answers``'s decision."""
    common: dict[str, Any] = {"label": field.label, "required": False, "help_text": field.help_text}
    attrs = {"aria-required": "true"} if field.required else {}
    if field.kind == FieldKind.CHOICE:  # a CharField: an answer off the list is refused below
        options = [("", "—")] + [(c, c) for c in field.choice_list]
        widget: forms.Widget = forms.Select(attrs=attrs, choices=options)
    elif field.kind == FieldKind.NUMBER:
        widget = forms.NumberInput(attrs={**attrs, "step": "any"})
    elif field.kind == FieldKind.DATE:
        widget = forms.DateInput(attrs={**attrs, "type": "date"})
    elif field.kind == FieldKind.PHOTO:
        widget = forms.Textarea(attrs={**attrs, "rows": 2})
        common["help_text"] = field.help_text or _(
            "The uploaded photos' references, one per line (at most %(n)d)."
        ) % {"n": MAX_PHOTOS}
    else:
        widget = forms.TextInput(attrs={**attrs, "maxlength": MAX_TEXT_LENGTH})
    return forms.CharField(widget=widget, strip=True, **common)


def answer_fields(template: CaseTemplate | None) -> dict[str, forms.Field]:
    """``{"answer_<key>": form field}`` for ``template``'s questions, in their order."""
    if template is None:
        return {}
    return {PREFIX + f.key: _form_field(f) for f in template.fields.all()}


def answer_initial(template: CaseTemplate | None, answers: dict | None) -> dict[str, Any]:
    """Stored answers as the form's initial values (photos one per line; empty stays empty)."""
    answers = answers or {}
    initial: dict[str, Any] = {}
    for field in template.fields.all() if template is not None else []:
        value = answers.get(field.key)
        if value in (None, ""):
            continue
        initial[PREFIX + field.key] = "\n".join(value) if isinstance(value, list) else value
    return initial


def clean_answers(form: forms.Form, template: CaseTemplate | None) -> dict[str, Any] | None:
    """Check the typed answers with ``validate_answers``; each problem goes on its field.

    Returns the cleaned answers (as the case stores them), or ``None`` when the
    form got errors.
    """
    raw: dict[str, Any] = {}
    for field in template.fields.all() if template is not None else []:
        value = form.cleaned_data.get(PREFIX + field.key)
        if field.kind == FieldKind.PHOTO and value:
            value = [line.strip() for line in value.splitlines() if line.strip()]
        raw[field.key] = value
    try:
        return validate_answers(template, raw)
    except ValidationFailed as error:
        for key, problems in error.fields.items():
            for problem in problems:
                form.add_error(PREFIX + key if PREFIX + key in form.fields else None, problem)
        return None


def answer_rows(template: CaseTemplate | None, answers: dict | None) -> list[tuple[str, str]]:
    """The answers as ``(label, text)`` rows in the template's order: choices by their
    label, dates formatted for the reader's language, photos and lists joined;
    answers to questions the template no longer has come last, under their key."""
    answers = dict(answers or {})
    rows = []
    for field in template.fields.all() if template is not None else []:
        if field.key in answers:
            rows.append((field.label, _text(field.kind, answers.pop(field.key))))
    rows.extend((key, _text(None, value)) for key, value in answers.items())
    return [(label, text) for label, text in rows if text]


def _text(kind: str | None, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list):
        return "、".join(_text(kind, v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}: {_text(None, v)}" for k, v in value.items())
    if kind == FieldKind.DATE:
        try:
            return date_format(datetime.date.fromisoformat(str(value)), "DATE_FORMAT")
        except ValueError:
            return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
