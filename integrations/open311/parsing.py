"""Reading Open311 parameters: a POSTed service request, and the filters of ``GET requests``.

Every problem is a 400 in GeoReport's error shape (``errors.invalid``), one
message per parameter, and nothing is kept. Names follow GeoReport v2; our
two extensions live among the attributes (see the package docstring).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from chat import media
from core.dates import local_day_bounds
from core.errors import ValidationFailed
from integrations.models import MEDIA_URL_MAX, ExternalSystem
from integrations.open311 import selectors
from integrations.open311.errors import Open311Error, invalid
from integrations.open311.selectors import RequestQuery
from integrations.services import IntakeRequest
from templates.choices import FieldKind
from templates.models import CaseTemplate
from templates.services import validate_answers

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: Who reported it: accepted as GeoReport allows, never kept (not in the case,
#: the review queue or the delivery log).
PERSONAL_PARAMS = ("first_name", "last_name", "phone", "email", "device_id", "account_id")
NOT_KEPT = ("api_key", *PERSONAL_PARAMS)
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
#: Our extensions, given as attributes: the community's area code and the caller's own id.
COMMUNITY, EXTERNAL_ID = "community", "external_id"
MAX_DESCRIPTION = 4000  # GeoReport's bound
#: What a POST may carry besides its photo: the form fields and the multipart framing.
FORM_ALLOWANCE = 256 * 1024
MAX_ADDRESS = 200  # Case.address
MAX_EXTERNAL_ID = 40  # ExternalCase.external_id
STATUSES = ("open", "closed")
WINDOW = timedelta(days=90)  # GeoReport: the default range and the widest one

Errors = dict[str, list[str]]


def form_params(request: HttpRequest) -> QueryDict:
    """The POSTed parameters, form-encoded or multipart as GeoReport says.

    A body longer than a photo's bound (``JINSHAO_UPLOAD_LIMITS["image"]``)
    plus ``FORM_ALLOWANCE`` is a 413 before any of it is read.
    """
    largest = settings.JINSHAO_UPLOAD_LIMITS["image"] + FORM_ALLOWANCE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > largest:
        raise Open311Error(
            _("The request is too large: at most %(size)s.") % {"size": filesizeformat(largest)},
            status=413,
        )
    try:
        if request.content_type not in FORM_TYPES:
            if request.body:
                raise Open311Error(
                    _("Send the parameters form-encoded (application/x-www-form-urlencoded).")
                )
            return QueryDict()
        params = request.POST
        if any("\x00" in key + "".join(values) for key, values in params.lists()):
            raise Open311Error(_("The request contains a NUL character."))
        return params
    except RequestDataTooBig:
        raise Open311Error(_("The request is too large."), status=413) from None
    except (SuspiciousOperation, MultiPartParserError):
        raise Open311Error(_("The request's body cannot be read.")) from None


def query_params(request: HttpRequest) -> QueryDict:
    try:
        return request.GET
    except SuspiciousOperation:  # too many fields
        raise Open311Error(_("The query has too many parameters.")) from None


def kept_params(params: QueryDict) -> dict[str, Any]:
    """What may be kept of what they sent: everything but the key and the personal fields."""
    return {
        key: values[0] if len(values) == 1 and not key.endswith("[]") else values
        for key, values in params.lists()
        if key not in NOT_KEPT
    }


def given_external_id(params: QueryDict) -> str:
    return str(params.get(f"attribute[{EXTERNAL_ID}]", "")).strip()[:MAX_EXTERNAL_ID]


# ------------------------------------------------------------------ POST requests


def intake_request(system: ExternalSystem, params: QueryDict) -> IntakeRequest:
    """The case asked for, its template and community looked up; raises ``Open311Error``."""
    errors: Errors = {}
    template = _template(params, errors)
    description = _text(params, "description", MAX_DESCRIPTION, errors)
    address = _text(params, "address_string", MAX_ADDRESS, errors)
    address = address or _text(params, "address_id", MAX_ADDRESS, errors)
    latitude, longitude = _location(params, errors)
    if latitude is None and not address and "lat" not in errors and "long" not in errors:
        errors["lat"] = [_("Give lat and long, address_string or address_id.")]
    attributes = _attributes(params, errors)
    external_id = _extension(attributes, EXTERNAL_ID, errors) or uuid.uuid4().hex
    area_code = _extension(attributes, COMMUNITY, errors)
    answers = _answers(template, attributes, errors) if template is not None else {}
    if len(external_id) > MAX_EXTERNAL_ID:
        errors[f"attribute[{EXTERNAL_ID}]"] = [
            _("At most %(n)d characters.") % {"n": MAX_EXTERNAL_ID}
        ]
    media_url = _media_url(params, errors)
    if errors or template is None:
        raise invalid(errors)
    request = IntakeRequest(
        external_id=external_id,
        title=_title(description, template),
        description=description,
        address=address,
        latitude=latitude,
        longitude=longitude,
        answers=answers,
        template=template,
        payload=kept_params(params),
        media_url=media_url,
    )
    request.community = selectors.community_for(system, area_code)
    if request.community is None:
        request.problems.append({"code": "unmapped_area", "value": area_code})
    return request


def _media_url(params: QueryDict, errors: Errors) -> str:
    """An http(s) address of the photo, linked on the case as given: we never fetch it.

    Fetching an address a client names would let it make our server call any
    host it likes, internal ones included (SSRF), so the photo is linked, not
    copied; a client that wants the photo kept here uploads it as ``media``.
    """
    value = str(params.get("media_url", "")).strip()
    if not value:
        return ""
    if len(value) > MEDIA_URL_MAX:
        errors["media_url"] = [_("At most %(n)d characters.") % {"n": MEDIA_URL_MAX}]
        return ""
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        errors["media_url"] = [_("Give the photo's http or https address.")]
        return ""
    return value


def photo(request: HttpRequest) -> bytes:
    """The uploaded ``media`` photo, checked as the case room checks photos, as JPEG bytes.

    Its type is read from its content and its size bounded
    (``JINSHAO_UPLOAD_LIMITS["image"]``); it is turned upright, scaled down and
    re-encoded without metadata (GPS position included), unstamped: the
    watermark is added when it is posted to the room. ``b""`` when none was
    sent; a file that is not an acceptable photo is a 400 naming ``media``.
    """
    files = request.FILES.getlist("media")
    if not files:
        return b""
    if len(files) > 1 or len(request.FILES) > 1:
        raise invalid({"media": [_("Send one photo, as the media file.")]})
    (upload,) = files
    try:
        media.check_upload("image", upload, max_bytes=settings.JINSHAO_UPLOAD_LIMITS["image"])
        return media.watermark_image(upload, lines=[])
    except ValidationFailed as exc:
        reasons = [str(m) for messages in exc.fields.values() for m in messages]
        raise invalid({"media": reasons or [str(exc)]}) from None


def _title(description: str, template: CaseTemplate) -> str:
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    return (first_line or template.name)[:200]


def _text(params: QueryDict, key: str, limit: int, errors: Errors) -> str:
    value = str(params.get(key, "")).strip()
    if len(value) > limit:
        errors[key] = [_("At most %(n)d characters.") % {"n": limit}]
    return value


def _template(params: QueryDict, errors: Errors) -> CaseTemplate | None:
    code = str(params.get("service_code", "")).strip()
    if not code:
        errors["service_code"] = [_("This field is required.")]
        return None
    template = selectors.offered_templates().filter(code=code).first()
    if template is None:
        errors["service_code"] = [_("No service has the code %(code)s.") % {"code": code}]
    return template


def _location(params: QueryDict, errors: Errors) -> tuple[Decimal | None, Decimal | None]:
    latitude = _coordinate(params, "lat", 90, errors)
    longitude = _coordinate(params, "long", 180, errors)
    if (latitude is None) != (longitude is None) and "lat" not in errors and "long" not in errors:
        errors["lat" if latitude is None else "long"] = [_("Give lat and long together.")]
        return None, None
    return latitude, longitude


def _coordinate(params: QueryDict, key: str, bound: int, errors: Errors) -> Decimal | None:
    value = str(params.get(key, "")).strip()
    if not value:
        return None
    try:
        number = Decimal(value)
        if number.is_finite() and -bound <= number <= bound:
            return number.quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        pass
    errors[key] = [_("Expected a number from -%(n)d to %(n)d.") % {"n": bound}]
    return None


def _attributes(params: QueryDict, errors: Errors) -> dict[str, Any]:
    """``attribute[KEY]=v`` → ``{KEY: v}``; ``attribute[KEY][]=a&attribute[KEY][]=b`` → a list."""
    attributes: dict[str, Any] = {}
    for name, values in params.lists():
        match = ATTRIBUTE.match(name)
        if match is None:
            continue
        key, many = match.group(1), bool(match.group(2))
        if key in attributes:
            errors[f"attribute[{key}]"] = [_("Given more than once.")]
            continue
        attributes[key] = [v.strip() for v in values] if many else values[-1].strip()
    return attributes


def _extension(attributes: dict[str, Any], key: str, errors: Errors) -> str:
    value = attributes.pop(key, "")
    if not isinstance(value, str):
        errors[f"attribute[{key}]"] = [_("Expected one value.")]
        return ""
    return value


def _answers(template: CaseTemplate, attributes: dict[str, Any], errors: Errors) -> dict:
    """The template answers, checked as the phone's are (required ones may wait for the caller)."""
    offered = {f.key: f for f in selectors.offered_fields(template)}
    refused = [key for key in attributes if key not in offered]
    for key in refused:
        errors[f"attribute[{key}]"] = [_("This service has no such attribute.")]
        del attributes[key]
    for key, value in attributes.items():
        if offered[key].kind == FieldKind.DATE and isinstance(value, str):
            attributes[key] = _as_date(value)
    try:
        return validate_answers(template, attributes, require_all=False)
    except ValidationFailed as exc:
        for key, messages in exc.fields.items():
            errors[f"attribute[{key}]"] = [str(m) for m in messages]
        return {}


def _as_date(value: str) -> str:
    """A GeoReport datetime answer to a date field: its local date (a plain date passes as is)."""
    moment = _moment(value)
    if moment is None or parse_date(value) is not None:
        return value
    return timezone.localdate(moment).isoformat()


# ------------------------------------------------------------------ GET requests


def request_query(params: QueryDict) -> RequestQuery:
    """The filters of ``GET requests``; the dates default to the last 90 days."""
    numbers = _list(params, "service_request_id")
    if numbers:  # GeoReport: ids override every other argument
        if len(numbers) > selectors.MAX_REQUESTS:
            raise invalid({"service_request_id": [_("Too many ids.")]})
        return RequestQuery(numbers=numbers)
    errors: Errors = {}
    statuses = set(_list(params, "status"))
    if statuses - set(STATUSES):
        errors["status"] = [_("Use open, closed or both.")]
    start, end = _window(params, errors)
    if errors:
        raise invalid(errors)
    return RequestQuery(
        service_codes=_list(params, "service_code"), statuses=statuses, start=start, end=end
    )


def _list(params: QueryDict, key: str) -> list[str]:
    """A comma-delimited parameter, possibly repeated."""
    return [
        part.strip() for value in params.getlist(key) for part in value.split(",") if part.strip()
    ]


def _window(params: QueryDict, errors: Errors) -> tuple[datetime | None, datetime | None]:
    start = _date_param(params, "start_date", errors)
    end = _date_param(params, "end_date", errors, whole_day=True)
    if errors:
        return None, None
    if start is None and end is None:
        end = timezone.now()
    try:
        if start is None:
            assert end is not None
            start = end - WINDOW
        if end is None:
            end = start + WINDOW
    except OverflowError:  # a date at the very edge of the calendar
        errors["start_date"] = [_("The dates are out of range.")]
        return None, None
    if end < start:
        errors["end_date"] = [_("The end comes before the start.")]
    elif end - start > WINDOW:
        errors["end_date"] = [_("The dates may not span more than 90 days.")]
    return start, end


def _date_param(
    params: QueryDict, key: str, errors: Errors, *, whole_day: bool = False
) -> datetime | None:
    """A moment, or a bare date's local start; with ``whole_day``, a bare date's last
    moment, so ``end_date=D`` takes in the whole of D (``core.dates.local_day_bounds``)."""
    value = str(params.get(key, "")).strip()
    if not value:
        return None
    moment = _moment(value)
    day = _bare_date(value)
    if whole_day and day is not None:
        try:
            moment = local_day_bounds(day)[1] - timedelta(microseconds=1)
        except OverflowError:
            moment = None
    try:
        if moment is not None:
            moment.astimezone(UTC)  # as the database will store it
    except OverflowError:
        moment = None
    if moment is None:
        errors[key] = [_("Expected an ISO 8601 date and time, e.g. 2024-05-01T08:00:00+08:00.")]
    return moment


def _bare_date(value: str) -> date | None:
    """The date ``value`` names when it is a bare date (no time of day), else None."""
    try:
        return parse_date(value)
    except ValueError:
        return None


def _moment(value: str) -> datetime | None:
    """An ISO 8601 time (a '+' of the offset sent unescaped reads as a space), or a date's start."""
    for candidate in (value, re.sub(r" (\d\d:?\d\d)$", r"+\1", value)):
        try:
            moment = parse_datetime(candidate)
        except ValueError:
            moment = None
        if moment is not None:
            return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    try:
        day = parse_date(value)
    except ValueError:
        return None
    return timezone.make_aware(datetime.combine(day, time.min)) if day is not None else None
