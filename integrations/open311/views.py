"""The GeoReport v2 endpoints: parse, look up or take in, answer in the URL's format.

Plain Django views (not the phone API: no session, no token, no OpenAPI
entry), CSRF-exempt because the callers are machines that authenticate with
``api_key`` on every request. ``GET services`` and a service definition are
public; everything about requests needs the key and sees only the requests
its own system filed. The key travels in the POSTed form or in the
``X-Api-Key`` header (GETs), never in the URL (a departure from GeoReport,
which allows it there: URLs end up in access logs). Refusals of a missing or
wrong key count against the client's address (``integrations.throttles``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from audit.request import client_ip
from cases.models import Case
from core.errors import DomainError
from integrations import services, throttles
from integrations.choices import DeliveryOutcome
from integrations.models import ExternalCase, ExternalSystem
from integrations.open311 import formats, parsing, selectors
from integrations.open311.errors import Open311Error, Throttled, forbidden, not_found
from integrations.open311.throttles import SystemPostThrottle
from templates.models import CaseTemplate

CHANNEL = "open311"


def endpoint(*methods: str) -> Callable:
    """Check the format and the method, and answer every refusal in GeoReport's error shape."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
            try:
                if fmt not in formats.FORMATS:
                    raise not_found(_("Use .json or .xml."))
                if _has_nul(request, kwargs):
                    raise Open311Error(_("The request contains a NUL character."))
                if request.method != "POST":  # a POST is refused and logged by its view
                    _refuse_key_in_url_counted(request)  # every endpoint, public ones too
                if request.method not in allowed:
                    error = Open311Error(_("Method not allowed."), status=405)
                    response = formats.render_error(fmt, error)
                    response["Allow"] = ", ".join(sorted(allowed))
                    return response
                return view(request, fmt, **kwargs)
            except DomainError as exc:
                return formats.render_error(fmt, exc)

        return wrapper

    return decorate


def _has_nul(request: HttpRequest, kwargs: dict) -> bool:
    """A NUL in the path or the query: no text column can hold it (PostgreSQL refuses it)."""
    values = [
        *kwargs.values(),
        *(v for _k, vs in parsing.query_params(request).lists() for v in vs),
    ]
    return any("\x00" in str(value) for value in values) or any(
        "\x00" in key for key in parsing.query_params(request)
    )


def _api_key(request: HttpRequest, form: QueryDict | None = None) -> str:
    """The key from the POSTed form or the ``X-Api-Key`` header; never from the URL.

    A query string is written to every access log on the way (proxies, the
    server), so a key sent there is refused before it is looked at.
    """
    _refuse_key_in_url(request)
    if form is not None and "api_key" in form:
        return str(form.get("api_key", ""))
    return request.headers.get("X-Api-Key", "")


def _refuse_key_in_url(request: HttpRequest) -> None:
    """Raise ``Open311Error`` (``open311_key_in_url``) when the query string carries the key."""
    if "api_key" in parsing.query_params(request):
        raise Open311Error(
            _(
                "Send api_key in the request body or in the X-Api-Key header, never in "
                "the URL: URLs are written to logs. Treat this key as exposed."
            ),
            code="open311_key_in_url",
        )


def _refuse_key_in_url_counted(request: HttpRequest) -> None:
    """``_refuse_key_in_url``, the refusal counting against the address like a wrong key."""
    try:
        _refuse_key_in_url(request)
    except Open311Error:
        throttles.count_refusal(request)
        raise


def _system(request: HttpRequest, form: QueryDict | None = None) -> ExternalSystem:
    """The active system the request's key names; a refusal counts against its address."""
    wait = throttles.retry_after(request)
    if wait is not None:
        raise Throttled(wait)
    try:
        system = selectors.system_for_key(_api_key(request, form))
    except Open311Error:
        throttles.count_refusal(request)
        raise
    if system is None:
        throttles.count_refusal(request)
        raise forbidden()
    return system


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """GeoReport's service discovery (``/open311/discovery.json`` or ``.xml``), public.

    ``contact``, ``key_service`` and the endpoint's ``type`` come from
    ``JINSHAO_OPEN311_CONTACT``, ``JINSHAO_OPEN311_KEY_SERVICE`` and
    ``JINSHAO_OPEN311_ENDPOINT_TYPE`` (``production`` unless set to ``test``).
    """
    changed = CaseTemplate.objects.aggregate(at=Max("updated_at"))["at"]
    kind = settings.JINSHAO_OPEN311_ENDPOINT_TYPE
    document = formats.discovery(
        url=request.build_absolute_uri(reverse("open311:root")),
        changeset=changed,
        contact=settings.JINSHAO_OPEN311_CONTACT,
        key_service=settings.JINSHAO_OPEN311_KEY_SERVICE,
        kind="test" if kind == "test" else "production",
    )
    return formats.render(fmt, "discovery", document)


@csrf_exempt
def unknown(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any other address under ``/open311/``: GeoReport's 404, in the format its extension names."""
    fmt = "xml" if path.lower().endswith(".xml") else "json"
    return formats.render_error(fmt, not_found(_("No such Open311 resource.")))


def media_url(request: HttpRequest, case: Case) -> str:
    """The photo of a request as its system may read it, or ``""``.

    The ``media_url`` the system sent, as it sent it; else, for a photo it
    uploaded, the address of that photo's download (``request_media``), which
    answers only to the same system's key: the case room's copy is behind the
    back office's login, which no outside system has.
    """
    link: ExternalCase | None = getattr(case, "external", None)
    if link is None:
        return ""
    if link.media_url:
        return link.media_url
    if link.media_file:
        return request.build_absolute_uri(
            reverse("open311:request-media", kwargs={"request_id": case.number})
        )
    return ""


@csrf_exempt
def request_media(request: HttpRequest, request_id: str) -> HttpResponse | FileResponse:
    """``GET requests/{id}/media.jpg``: the photo the key's system uploaded with that request.

    The photo as it was kept (upright, re-encoded, without metadata or
    watermark); only to the system that filed the request (``X-Api-Key``),
    404 for any other request. Refusals are GeoReport's errors in JSON.
    """
    try:
        if request.method not in ("GET", "HEAD"):
            response = formats.render_error(
                "json", Open311Error(_("Method not allowed."), status=405)
            )
            response["Allow"] = "GET, HEAD"
            return response
        if "\x00" in request_id:
            raise Open311Error(_("The request contains a NUL character."))
        system = _system(request)
        link = (
            ExternalCase.objects.filter(system=system, case__number=request_id)
            .exclude(media_file="")
            .first()
        )
        if link is None:
            raise not_found(
                _("No photo was uploaded with service request %(id)s.") % {"id": request_id}
            )
        photo = FileResponse(link.media_file.open("rb"), content_type="image/jpeg")
        photo["Cache-Control"] = "private, no-store"
        photo["X-Content-Type-Options"] = "nosniff"
        return photo
    except DomainError as exc:
        return formats.render_error("json", exc)


@endpoint("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    services_ = [formats.service(t) for t in selectors.offered_templates()]
    return formats.render(fmt, "services", services_)


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    template = selectors.offered_templates().filter(code=service_code).first()
    if template is None:
        raise not_found(_("No service has the code %(code)s.") % {"code": service_code})
    return formats.render(fmt, "service_definition", formats.service_definition(template))


@endpoint("GET", "POST")
def request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    system = _system(request)
    params = parsing.query_params(request)
    cases = selectors.find_requests(system, parsing.request_query(params))
    shown = [formats.service_request(c, media_url(request, c)) for c in cases]
    return formats.render(fmt, "service_requests", shown)


@endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    system = _system(request)
    case = selectors.requests_of(system).filter(number=request_id).first()
    if case is None:
        raise not_found(_("No service request has the id %(id)s.") % {"id": request_id})
    shown = [formats.service_request(case, media_url(request, case))]
    return formats.render(fmt, "service_requests", shown)


@endpoint("GET")
def token_detail(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    system = _system(request)
    prefix, _dash, number = token.partition("-")
    review = None
    if prefix == "review" and re.fullmatch(r"[0-9]{1,18}", number):  # fits a bigint
        review = selectors.review_of(system, int(number))
    if review is None:
        raise not_found(_("No token %(token)s.") % {"token": token})
    return formats.render(fmt, "service_requests", [formats.token(review)])


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    """Take a service request in; every attempt, refusals included, is kept as a Delivery.

    Throttled attempts (the address refused too often, or the system over its
    rate) are counted in one row per window instead (``integrations.throttles``).
    """
    system: ExternalSystem | None = None
    kept: dict = {}
    external_id = ""
    try:
        wait = throttles.retry_after(request)
        if wait is not None:
            raise Throttled(wait)
        params = _form(request)
        kept, external_id = parsing.kept_params(params), parsing.given_external_id(params)
        system = _system(request, params)
        throttle = SystemPostThrottle(system)
        if not throttle.allow_request(request, None):
            raise Throttled(throttle.wait())
        intake = parsing.intake_request(system, params)
        external_id = intake.external_id
        intake.photo = parsing.photo(request)
        with transaction.atomic():
            result = services.take_in(system, intake)
            status = 200 if result.outcome == DeliveryOutcome.DUPLICATE else 201
            _record(request, system, status, result.outcome, external_id, kept, result=result)
    except Throttled as exc:
        services.record_throttled(
            system,
            channel=CHANNEL,
            error=exc,
            remote_addr=client_ip(request),
            since=throttles.current_window().started_at,
        )
        raise
    except DomainError as exc:
        if system is None and not throttles.refusals_may_be_kept():
            services.record_throttled(
                None,
                channel=CHANNEL,
                error=exc,
                remote_addr=None,
                since=throttles.current_window().started_at,
                status_code=exc.http_status,
            )
            raise
        _record(
            request, system, exc.http_status, DeliveryOutcome.REFUSED, external_id, kept, error=exc
        )
        raise
    return formats.render(fmt, "service_requests", [formats.posted(result)], status=status)


def _form(request: HttpRequest) -> QueryDict:
    """The POSTed parameters; a body we cannot read (before any key) counts as a refusal."""
    try:
        return parsing.form_params(request)
    except Open311Error:
        throttles.count_refusal(request)
        raise


def _record(
    request: HttpRequest,
    system: ExternalSystem | None,
    status: int,
    outcome: str,
    external_id: str,
    kept: dict,
    *,
    result: services.IntakeResult | None = None,
    error: DomainError | None = None,
) -> None:
    """The delivery log keeps what was sent, without the key and the personal fields."""
    services.record_delivery(
        system,
        channel=CHANNEL,
        status_code=status,
        outcome=outcome,
        external_id=external_id,
        result=result,
        error=error,
        remote_addr=client_ip(request),
        body=json.dumps(kept, ensure_ascii=False),
    )
