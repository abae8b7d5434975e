"""Stored data of codes (an audit record's details, what a platform sent or is sent)
as a person reads it: a definition list of labels and values, never a JSON object.

Each app names its keys and turns its codes into labels (``audit.labels``,
``integrations.labels``); this module only lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

EMPTY = "—"


def definition_list(
    data: Mapping[str, Any],
    *,
    labels: Mapping[str, Any],
    values: Mapping[str, Callable[[Any], Any]] | None = None,
) -> SafeString:
    """``data`` (a JSON object) as ``<dl>`` HTML: each key by its label in ``labels``
    (a key not listed is shown as it is), each value through ``values[key]`` when
    given, else as text; nested objects as nested lists, lists joined by "、",
    ``None`` and "" as "—", booleans as 是/否. An empty object is "—"."""
    values = values or {}
    if not data:
        return mark_safe(EMPTY)
    rows = [
        (labels.get(key, key), _shown(values[key](item) if key in values else item, labels, values))
        for key, item in data.items()
    ]
    return format_html(
        '<dl class="case-answers">{}</dl>',
        format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows),
    )


def _shown(item: Any, labels, values, *, nested: bool = False) -> SafeString:
    if isinstance(item, SafeString):
        return item
    if item is None or item == "":
        return mark_safe(EMPTY)
    if isinstance(item, bool):
        return conditional_escape(gettext("yes") if item else gettext("no"))
    if isinstance(item, Mapping):
        return definition_list(item, labels=labels, values=values)
    if isinstance(item, list | tuple):
        parts = [conditional_escape(_shown(part, labels, values, nested=True)) for part in item]
        return mark_safe((" · " if nested else "、").join(parts) or EMPTY)
    return conditional_escape(str(item))
