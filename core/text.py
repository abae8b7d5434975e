"""Text the production database refuses, found once at each way in.

PostgreSQL cannot store a NUL (U+0000) in a text column nor ``\\u0000`` in a
``jsonb`` value (``DataError``), and its UTF-8 cannot hold an unpaired
surrogate (U+D800–U+DFFF, which JSON's ``"\\ud800"`` escape produces; the
driver fails to encode it). SQLite takes both, so such text would pass every
test and fail only in production. Each boundary (the API's parsers and its
query strings and paths, the sockets' frames, the signed intake) asks
``find_refused_characters`` about everything it was sent and refuses the
request with ``RefusedCharacters`` (code ``invalid_characters``) before
anything is read from or written to the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from core.errors import ValidationFailed

#: What no text column or JSON value of PostgreSQL can hold.
REFUSED = re.compile("[\x00\ud800-\udfff]")


def has_refused_characters(text: str) -> bool:
    """True if ``text`` holds a NUL or an unpaired surrogate."""
    return REFUSED.search(text) is not None


def scrub(text: str) -> str:
    """``text`` with each refused character replaced by U+FFFD (for logs of refused requests)."""
    return REFUSED.sub("\ufffd", text)


def _join(path: str, key: Any) -> str:
    segment = scrub(str(key))  # the path is sent back: it must itself be storable and sendable
    return f"{path}.{segment}" if path else segment


def find_refused_characters(value: Any, path: str = "") -> str | None:
    """The dotted path (``"answers.goods"``, ``"items.0"``) of the first refused text in
    ``value``, or None when all of it can be stored.

    ``value`` is what a parser gave: a ``str``, a mapping (its keys are checked
    too: a bad key's own path is returned), a list or tuple, a ``QueryDict`` or
    other ``MultiValueDict`` (every value of every key), or anything else (not
    text: never refused). A refused ``str`` at the top answers ``path`` itself.
    """
    if isinstance(value, str):
        return path if has_refused_characters(value) else None
    if isinstance(value, MultiValueDict):
        for key, values in value.lists():
            found = find_refused_characters([key, *values], _join(path, key))
            if found is not None:
                return _join(path, key)
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and has_refused_characters(key):
                return _join(path, key)
            found = find_refused_characters(item, _join(path, key))
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_refused_characters(item, _join(path, index))
            if found is not None:
                return found
    return None


class RefusedCharacters(ValidationFailed):
    """Text the database cannot store was sent; ``fields`` names where (400)."""

    code = "invalid_characters"

    def __init__(self, path: str) -> None:
        message = _(
            "The text contains a character that cannot be stored "
            "(a NUL byte or an unpaired surrogate)."
        )
        super().__init__(message, fields={path or "non_field_errors": [message]})


def refuse_characters(value: Any, path: str = "") -> None:
    """Raise ``RefusedCharacters`` if ``find_refused_characters(value, path)`` finds any."""
    found = find_refused_characters(value, path)
    if found is not None:
        raise RefusedCharacters(found)
