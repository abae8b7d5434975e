"""Form fields shared by the back office's forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.fields import InvalidJSONInput

from core.text import RefusedCharacters, find_refused_characters


class StorableJSONField(forms.JSONField):
    """Django's ``JSONField``, refusing JSON the database cannot store.

    Django's fields refuse a NUL typed as such, but JSON typed into a form
    carries it as the escape ``\\u0000`` (or an unpaired ``\\ud800``), which
    only decoding reveals: PostgreSQL then refuses the row (a 500), and a
    surrogate cannot even be shown again on the page. Such input is refused
    (code ``invalid_characters``) and shown back exactly as it was typed.
    """

    def to_python(self, value: Any) -> Any:
        converted = super().to_python(value)
        path = find_refused_characters(converted)
        if path is not None:
            raise forms.ValidationError(
                RefusedCharacters(path).message, code=RefusedCharacters.code
            )
        return converted

    def bound_data(self, data: Any, initial: Any) -> Any:
        value = super().bound_data(data, initial)
        if not isinstance(value, InvalidJSONInput) and find_refused_characters(value) is not None:
            return InvalidJSONInput(data)  # the text as typed, its escapes undecoded
        return value
