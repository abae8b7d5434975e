"""Checking the answers a case gives to its template's form fields."""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from core.errors import ValidationFailed
from core.text import refuse_characters
from templates.choices import FieldKind
from templates.models import CaseTemplate, TemplateField

MAX_TEXT_LENGTH = 2000
MAX_PHOTOS = 9


class _Invalid(Exception):
    pass


def _clean_text(field: TemplateField, value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(_("Enter text."))
    value = value.strip()
    if len(value) > MAX_TEXT_LENGTH:
        raise _Invalid(_("At most %(n)d characters.") % {"n": MAX_TEXT_LENGTH})
    return value


def _clean_number(field: TemplateField, value: Any) -> int | float:
    if isinstance(value, bool):
        raise _Invalid(_("Enter a number."))
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _Invalid(_("Enter a number.")) from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise _Invalid(_("Enter a number."))
    return int(value) if float(value).is_integer() else float(value)


def _clean_choice(field: TemplateField, value: Any) -> str:
    if not isinstance(value, str) or value not in field.choice_list:
        raise _Invalid(_("Choose one of: %(choices)s.") % {"choices": "、".join(field.choice_list)})
    return value


def _clean_date(field: TemplateField, value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        return datetime.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise _Invalid(_("Enter a date as YYYY-MM-DD.")) from None


def _clean_photo(field: TemplateField, value: Any) -> list[str]:
    photos = [value] if isinstance(value, str) else value
    if not isinstance(photos, list) or not all(isinstance(p, str) and p.strip() for p in photos):
        raise _Invalid(_("Give the uploaded photos' references."))
    if len(photos) > MAX_PHOTOS:
        raise _Invalid(_("At most %(n)d photos.") % {"n": MAX_PHOTOS})
    return [p.strip() for p in photos]


_CLEANERS: dict[str, Callable[[TemplateField, Any], Any]] = {
    FieldKind.TEXT: _clean_text,
    FieldKind.NUMBER: _clean_number,
    FieldKind.CHOICE: _clean_choice,
    FieldKind.DATE: _clean_date,
    FieldKind.PHOTO: _clean_photo,
}


def _is_empty(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def validate_answers(
    template: CaseTemplate | None, answers: Any, *, require_all: bool = True
) -> dict[str, Any]:
    """Return the cleaned answers to ``template``'s fields, or raise ``ValidationFailed``.

    Every problem is reported at once, keyed by the field's key: unknown keys,
    missing required answers and answers of the wrong type or choice.
    ``require_all=False`` lets required answers wait (a case taken in from
    another system, which the caller completes before submitting).
    Text the database cannot store (a NUL, an unpaired surrogate, anywhere in
    the answers) raises ``core.text.RefusedCharacters`` first, keyed the same way.
    """
    if answers in (None, ""):
        answers = {}
    if not isinstance(answers, dict):
        raise ValidationFailed(
            _("Answers must be an object of field keys to values."),
            fields={"answers": [_("Expected an object.")]},
        )
    # Typed as JSON in the back office, a "\u0000" escape reaches here as a NUL.
    refuse_characters(answers)
    fields = list(template.fields.all()) if template is not None else []
    known = {f.key for f in fields}
    errors: dict[str, list[str]] = {
        key: [_("This form has no such field.")] for key in answers if key not in known
    }
    cleaned: dict[str, Any] = {}
    for field in fields:
        value = answers.get(field.key)
        if _is_empty(value):
            if field.required and require_all:
                errors[field.key] = [_("%(label)s is required.") % {"label": field.label}]
            continue
        try:
            cleaned[field.key] = _CLEANERS[field.kind](field, value)
        except _Invalid as exc:
            errors[field.key] = [f"{field.label}: {exc}"]
    if errors:
        raise ValidationFailed(_("Some answers are not valid."), fields=errors)
    return cleaned


def create_template_from_suggestion(*, actor, category, departments) -> CaseTemplate:
    """Turn an analytics suggestion into a template (system administrators, one click).

    The template is created active with the suggested default departments and
    no form fields; administrators refine it in the admin like any other.
    """
    from django.db import transaction

    from accounts.choices import Role
    from accounts.selectors import has_role
    from core.errors import PermissionDenied

    if not (actor.is_superuser or has_role(actor, Role.SYSADMIN)):
        raise PermissionDenied(_("Only system administrators may create templates."))
    if not departments:
        raise ValidationFailed(
            _("A suggestion needs at least one department."),
            fields={"departments": [_("Choose at least one department.")]},
        )
    with transaction.atomic():
        code = f"suggested-{category.code}"
        n = 1
        while CaseTemplate.objects.filter(code=code).exists():
            n += 1
            code = f"suggested-{category.code}-{n}"
        template = CaseTemplate.objects.create(
            code=code[:32],
            name=category.name,
            category=category,
            description="",
        )
        template.default_departments.set(departments)
    return template


def set_default_departments(template: CaseTemplate, *, actor, departments) -> CaseTemplate:
    """Replace a template's default departments (system administrators, from a suggestion)."""
    from accounts.choices import Role
    from accounts.selectors import has_role
    from core.errors import PermissionDenied

    if not (actor.is_superuser or has_role(actor, Role.SYSADMIN)):
        raise PermissionDenied(_("Only system administrators may change templates."))
    if not departments:
        raise ValidationFailed(
            _("A suggestion needs at least one department."),
            fields={"departments": [_("Choose at least one department.")]},
        )
    template.default_departments.set(departments)
    return template
