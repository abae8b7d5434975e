"""GeoReport v2 shapes of our templates, cases and refusals, written as JSON or XML.

Each shape is built once as plain Python (field names exactly as GeoReport
spells them) and written in the format the URL asks for. In XML a list is an
element holding one element per item (``<services><service>…``), ``None`` an
empty element, booleans ``true``/``false``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import CaseState
from cases.models import Case
from core.errors import DomainError
from integrations.models import IntakeReview
from integrations.open311.errors import Throttled
from integrations.open311.selectors import CLOSED_STATES, DATATYPES, offered_fields
from integrations.services import IntakeResult
from templates.choices import FieldKind
from templates.models import CaseTemplate, TemplateField

FORMATS = {"json": "application/json; charset=utf-8", "xml": "application/xml; charset=utf-8"}
#: The element of one item, for each list GeoReport names.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
#: GeoReport v2's specification, as discovery documents name it.
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: The formats discovery lists, as GeoReport spells them.
DISCOVERY_FORMATS = ["text/xml", "application/json"]
#: Characters XML 1.0 cannot carry at all (even escaped): dropped from the XML answer.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ------------------------------------------------------------------ shapes


def service(template: CaseTemplate) -> dict[str, Any]:
    return {
        "service_code": template.code,
        "service_name": template.name,
        "description": template.description,
        "metadata": bool(offered_fields(template)),
        "type": "realtime",
        "keywords": "",
        "group": template.category.name,
    }


def service_definition(template: CaseTemplate) -> dict[str, Any]:
    return {
        "service_code": template.code,
        "attributes": [
            attribute(f, order) for order, f in enumerate(offered_fields(template), start=1)
        ],
    }


def attribute(field: TemplateField, order: int) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "variable": True,
        "code": field.key,
        "datatype": DATATYPES[field.kind],
        "required": field.required,
        "datatype_description": field.help_text or _datatype_hint(field),
        "order": order,
        "description": field.label,
    }
    if field.kind == FieldKind.CHOICE:
        shape["values"] = [{"key": choice, "name": choice} for choice in field.choice_list]
    return shape


def _datatype_hint(field: TemplateField) -> str:
    if field.kind == FieldKind.DATE:
        return _("A date, YYYY-MM-DD (of a date and time, only the date is kept).")
    if field.kind == FieldKind.NUMBER:
        return _("A number.")
    return ""


def discovery(
    *, url: str, changeset: datetime | None, contact: str, key_service: str, kind: str
) -> dict[str, Any]:
    """GeoReport's service discovery: one endpoint, ``url`` ending in ``/v2/``.

    ``changeset`` is when the services or their definitions last changed
    (clients refresh what they cached when it moves); ``kind`` is
    ``production`` or ``test``.
    """
    moment = _moment(changeset)
    return {
        "changeset": moment,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": moment,
                "type": kind,
                "formats": DISCOVERY_FORMATS,
            }
        ],
    }


def service_request(case: Case, media_url: str = "") -> dict[str, Any]:
    """A case as GeoReport shows a service request (``case.accepted``: see selectors).

    ``media_url`` is the photo's address for this caller (see ``views.media_url``).
    """
    template = case.template
    departments = dict.fromkeys(inv.department.name for inv in getattr(case, "accepted", []))
    return {
        "service_request_id": case.number,
        "status": "closed" if case.state in CLOSED_STATES else "open",
        "status_notes": str(CaseState(case.state).label),
        "service_name": template.name if template is not None else case.category.name,
        "service_code": template.code if template is not None else "",
        "description": case.description or case.title,
        "agency_responsible": "、".join(departments),
        "service_notice": "",
        "requested_datetime": _moment(case.created_at),
        "updated_datetime": _moment(case.updated_at),
        "expected_datetime": _moment(case.deadline),
        "address": case.address,
        "address_id": "",
        "zipcode": "",
        "lat": _number(case.latitude),
        "long": _number(case.longitude),
        "media_url": media_url,
    }


def posted(result: IntakeResult) -> dict[str, Any]:
    """The answer to a POSTed request: its case number, or a token while it waits for review."""
    if result.case is not None:
        return {
            "service_request_id": result.case.number,
            "service_notice": result.message,
            "account_id": None,
        }
    assert result.review is not None
    return {"token": token_of(result.review), "service_notice": result.message, "account_id": None}


def token(review: IntakeReview) -> dict[str, Any]:
    case = review.case
    return {
        "service_request_id": case.number if case is not None else None,
        "token": token_of(review),
    }


def token_of(review: IntakeReview) -> str:
    return f"review-{review.pk}"


def error_list(error: DomainError) -> list[dict[str, Any]]:
    """GeoReport's errors: one per parameter at fault, or the one message."""
    status = error.http_status
    if not error.fields:
        return [{"code": status, "description": str(error)}]
    return [
        {"code": status, "description": f"{name}: {message}"}
        for name, messages in error.fields.items()
        for message in (messages if isinstance(messages, list | tuple) else [messages])
    ]


def _moment(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


# ------------------------------------------------------------------ writing


def render(fmt: str, root: str, data: Any, *, status: int = 200) -> HttpResponse:
    """``data`` (a list, or a mapping for the service definition) as JSON or under ``<root>``."""
    content = to_xml(root, data) if fmt == "xml" else json.dumps(data, ensure_ascii=False)
    return HttpResponse(content, status=status, content_type=FORMATS[fmt])


def render_error(fmt: str, error: DomainError) -> HttpResponse:
    response = render(
        fmt if fmt in FORMATS else "json", "errors", error_list(error), status=error.http_status
    )
    if isinstance(error, Throttled) and error.retry_after:
        response["Retry-After"] = str(error.retry_after)
    return response


def to_xml(root: str, data: Any) -> str:
    element = ET.Element(root)
    _fill(element, data)
    body = ET.tostring(element, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        tag = ITEMS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = NOT_XML.sub("", str(value))
