"""What the integration codes mean, in the reader's language.

The delivery log and the outbox store stable codes (the channel a request came
by, the case step a message reports) and the JSON a platform sent or is sent;
the administrator reads labels and a list of named values. A code not listed
here is shown as it is.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import is_aware, localtime
from django.utils.translation import gettext_lazy as _

from cases.choices import CaseState, EventKind
from core.details import definition_list
from templates.choices import Priority

#: ``Delivery.channel`` → label: how a request came in.
CHANNEL_LABELS = {
    "intake": _("Platform intake interface"),
    "open311": _("Open311 interface"),
    "admin_import": _("Imported in the back office"),
}

#: Keys of what platforms send (the intake interface, Open311, the import sheet) and of
#: the status messages sent back, → label.
PAYLOAD_LABELS = {
    # the intake interface and the import sheet
    "external_id": _("their id"),
    "category_code": _("their category code"),
    "area_code": _("their area code"),
    "title": _("title"),
    "description": _("description"),
    "address": _("address"),
    "latitude": _("latitude"),
    "longitude": _("longitude"),
    "priority": _("priority"),
    "reported_at": _("reported at"),
    "answers": _("template answers"),
    # Open311 (GeoReport v2)
    "jurisdiction_id": _("jurisdiction"),
    "service_code": _("their category code"),
    "service_request_id": _("their id"),
    "lat": _("latitude"),
    "long": _("longitude"),
    "address_string": _("address"),
    "address_id": _("their address id"),
    "media_url": _("photo address"),
    "attribute": _("template answers"),
    # the status messages sent back
    "system": _("external system"),
    "case": _("case"),
    "number": _("number"),
    "state": _("state"),
    "event": _("event"),
    "from_state": _("state before"),
    "to_state": _("state after"),
    "note": _("note"),
    "at": _("time"),
}


def channel_label(code: str) -> str:
    """The label of a ``Delivery.channel`` code ("intake" → 平台推送接口); unknown: as is."""
    return str(CHANNEL_LABELS.get(code, code))


def event_label(code: str) -> str:
    """The label of a case step code ("created" → 创建); unknown: as is."""
    return str(EventKind(code).label) if code in EventKind.values else str(code or "")


def _state_label(code: Any) -> Any:
    return CaseState(code).label if code in CaseState.values else code


def _priority_label(code: Any) -> Any:
    return Priority(code).label if code in Priority.values else code


def _moment(value: Any) -> Any:
    """An ISO 8601 time as local time to the second; anything else as it is."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return value
    if is_aware(moment):
        moment = localtime(moment)
    return f"{moment:%Y-%m-%d %H:%M:%S}"


_VALUES = {
    "at": _moment,
    "reported_at": _moment,
    "event": event_label,
    "state": _state_label,
    "from_state": _state_label,
    "to_state": _state_label,
    "priority": _priority_label,
}


def payload_list(payload: Any) -> SafeString:
    """A payload (a JSON object) as a definition list of labels and values, codes of
    steps, states and priorities as their labels; anything else (a list, a text that is
    no JSON object) as preformatted text."""
    if isinstance(payload, str):
        try:
            payload = json.loads(payload) if payload.strip() else {}
        except ValueError:
            return format_html("<pre>{}</pre>", payload)
    if isinstance(payload, dict):
        return definition_list(payload, labels=PAYLOAD_LABELS, values=_VALUES)
    return format_html("<pre>{}</pre>", json.dumps(payload, ensure_ascii=False, indent=2))
