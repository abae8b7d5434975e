"""Taking cases in from other systems and telling them how the cases went.

Inbound (``take_in``): a request already parsed into an ``IntakeRequest``
(from the signed platform API, from Open311, or from a spreadsheet in the
admin) becomes a draft case in its community's queue, with the community's
village official as caller. It is idempotent on the system's id: the
``ExternalCase`` link is unique, so a second delivery, even a concurrent one,
finds the first case and changes nothing. What cannot be mapped waits in the
review queue (``IntakeReview``) for a commander.

Outbound (``queue_status`` / ``deliver``): every state change of an imported
case writes an ``OutboundMessage`` in the step's own transaction (an outbox:
a crash after commit loses nothing). ``deliver`` leases one message, posts it
signed to the system's callback URL and records the attempt; until the other
side answers 2xx it is retried with a growing delay, in order per case.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.choices import Role
from cases import services as case_services
from cases.choices import CaseSource, EventKind
from cases.models import Case, CaseEvent
from core.errors import DomainError, InvalidTransition, PermissionDenied, ValidationFailed
from core.text import scrub
from integrations.choices import DeliveryOutcome, OutboundState, ReviewState
from integrations.models import (
    AreaMapping,
    CategoryMapping,
    Delivery,
    ExternalCase,
    ExternalSystem,
    IntakeReview,
    OutboundAttempt,
    OutboundMessage,
    SeenSignature,
)
from templates.choices import Priority
from templates.services import validate_answers

SIGNATURE_PREFIX = "sha256="


class IntakeRefused(DomainError):
    """A request we do not trust (signature, clock, replay, unknown or inactive system)."""

    code = "intake_refused"
    http_status = 401


logger = logging.getLogger(__name__)


# ------------------------------------------------------------------ signing


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``"<timestamp>." + body`` (both directions)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def check_signature(
    system: ExternalSystem, *, timestamp: str, signature: str, body: bytes, now: float | None = None
) -> None:
    """Refuse a wrong signature, a timestamp out of the window, or a replay.

    The signature is remembered (``SeenSignature``, unique per system) in the
    caller's transaction, so the same request can be accepted once only.
    """
    if not system.is_active:
        raise IntakeRefused(_("This system is not active."), code="system_inactive")
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        raise IntakeRefused(
            _("The request carries no valid timestamp."), code="bad_timestamp"
        ) from None
    now = time.time() if now is None else now
    if abs(now - sent_at) > settings.JINSHAO_INTAKE_WINDOW_SECONDS:
        raise IntakeRefused(
            _("The request's timestamp is too far from our clock."), code="stale_request"
        )
    expected = sign(system.secret, str(timestamp), body)
    if not signature or not hmac.compare_digest(expected, signature.strip()):
        raise IntakeRefused(_("The request's signature is wrong."), code="bad_signature")
    digest = signature.strip().removeprefix(SIGNATURE_PREFIX)[:64]
    try:
        with transaction.atomic():
            SeenSignature.objects.create(system=system, signature=digest)
    except IntegrityError:
        raise IntakeRefused(_("This request was already received once."), code="replayed") from None


def forget_old_signatures(now=None) -> int:
    """Drop remembered signatures older than the window (their timestamps are refused anyway)."""
    now = now or timezone.now()
    horizon = now - timedelta(seconds=2 * settings.JINSHAO_INTAKE_WINDOW_SECONDS)
    deleted, _ = SeenSignature.objects.filter(seen_at__lt=horizon).delete()
    return deleted


# ------------------------------------------------------------------ intake


@dataclass
class IntakeRequest:
    """A case another system asks us to take in, with its codes already looked up."""

    external_id: str
    title: str
    description: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    priority: str | None = None
    answers: dict = field(default_factory=dict)
    template: Any = None
    community: Any = None
    problems: list[dict] = field(default_factory=list)
    payload: dict = field(default_factory=dict)
    #: A photo's address the sender gave: linked on the case, never fetched (see ``link_media``).
    media_url: str = ""
    #: A photo the sender uploaded, already checked and re-encoded as JPEG (Open311 ``media``).
    photo: bytes = b""

    def case_fields(self) -> dict:
        """The case's own fields, JSON-safe (kept with a delivery waiting for review)."""
        return {
            "title": self.title,
            "description": self.description,
            "address": self.address,
            "latitude": str(self.latitude) if self.latitude is not None else None,
            "longitude": str(self.longitude) if self.longitude is not None else None,
            "priority": self.priority,
            "answers": self.answers,
            "media_url": self.media_url,
        }

    @classmethod
    def from_review(cls, review: IntakeReview) -> IntakeRequest:
        fields = dict((review.payload or {}).get("case") or {})
        for key in ("latitude", "longitude"):
            fields[key] = Decimal(fields[key]) if fields.get(key) else None
        return cls(external_id=review.external_id, payload=review.payload, **fields)


#: The HTTP status each outcome answers (the intake API; kept on admin-import deliveries).
OUTCOME_STATUS = {
    DeliveryOutcome.CREATED: 201,
    DeliveryOutcome.DUPLICATE: 200,
    DeliveryOutcome.REVIEW: 202,
}


@dataclass
class IntakeResult:
    outcome: str
    case: Case | None = None
    review: IntakeReview | None = None

    @property
    def message(self) -> str:
        if self.outcome == DeliveryOutcome.CREATED and self.case is not None:
            return _("Case %(number)s was created.") % {"number": self.case.number}
        if self.outcome == DeliveryOutcome.DUPLICATE and self.case is not None:
            return _("Already taken in as case %(number)s; nothing was changed.") % {
                "number": self.case.number
            }
        if self.review is not None and self.review.state == ReviewState.DISMISSED:
            return _("This id was dismissed in review: %(note)s") % {"note": self.review.note}
        return _("Waiting in the review queue.")


def _text(data: dict, key: str, limit: int, errors: dict, *, required: bool = False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str | int):
        errors[key] = [_("Expected text.")]
        return ""
    value = str(value).strip()
    if "\x00" in value:
        errors[key] = [_("Text may not contain NUL characters.")]
    elif required and not value:
        errors[key] = [_("This field is required.")]
    elif len(value) > limit:
        errors[key] = [_("At most %(limit)s characters.") % {"limit": limit}]
    return value


def _coordinate(data: dict, key: str, bound: int, errors: dict) -> Decimal | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        errors[key] = [_("Expected a number.")]
        return None
    if not -bound <= number <= bound:
        errors[key] = [_("Out of range.")]
        return None
    return number


def parse_platform_case(system: ExternalSystem, data: Any) -> IntakeRequest:
    """Check the city platform's fields and look its codes up in the system's mappings.

    A malformed request raises ``ValidationFailed`` (nothing is kept); codes we
    have no mapping for become ``problems`` (the case goes to review).
    """
    if not isinstance(data, dict):
        raise ValidationFailed(_("The body must be a JSON object."))
    errors: dict[str, list[str]] = {}
    external_id = _text(data, "external_id", 40, errors, required=True)
    title = _text(data, "title", 200, errors)
    description = _text(data, "description", 5000, errors)
    if not title and not description and "title" not in errors:
        errors["title"] = [_("Give a title or a description.")]
    category_code = _text(data, "category_code", 64, errors, required=True)
    area_code = _text(data, "area_code", 64, errors, required=True)
    address = _text(data, "address", 200, errors)
    latitude = _coordinate(data, "latitude", 90, errors)
    longitude = _coordinate(data, "longitude", 180, errors)
    priority = data.get("priority") or None
    if priority is not None and priority not in Priority.values:
        errors["priority"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(Priority.values)}
        ]
    answers = data.get("answers") or {}
    if not isinstance(answers, dict):
        errors["answers"] = [_("Expected an object.")]
    if data.get("reported_at") not in (None, "") and not _parse_time(data["reported_at"]):
        errors["reported_at"] = [_("Expected an ISO 8601 date and time.")]
    if errors:
        raise ValidationFailed(_("The case is not well formed."), fields=errors)
    request = IntakeRequest(
        external_id=external_id,
        title=(title or description)[:200],
        description=description,
        address=address,
        latitude=latitude,
        longitude=longitude,
        priority=priority,
        answers=answers,
        payload=data,
    )
    category = CategoryMapping.objects.filter(system=system, external_code=category_code).first()
    area = AreaMapping.objects.filter(system=system, external_code=area_code).first()
    if category is None:
        request.problems.append({"code": "unmapped_category", "value": category_code})
    else:
        request.template = category.template
        request.answers = validate_answers(category.template, answers, require_all=False)
    if area is None:
        request.problems.append({"code": "unmapped_area", "value": area_code})
    else:
        request.community = area.community
    return request


def _parse_time(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def community_caller(community):
    """The village official a taken-in case is raised for: the first active one of the community."""
    from accounts.models import RoleAssignment

    assignment = (
        RoleAssignment.objects.filter(
            role=Role.VILLAGE_OFFICIAL, area=community, user__is_active=True
        )
        .select_related("user")
        .order_by("id")
        .first()
    )
    return assignment.user if assignment is not None else None


PROBLEM_TEXTS = {
    "unmapped_category": lambda: _("No template is mapped to their category code %(value)s."),
    "unmapped_area": lambda: _("No community is mapped to their area code %(value)s."),
    "inactive_template": lambda: _("The mapped template %(value)s is no longer in use."),
    "no_official": lambda: _("Community %(value)s has no active village official."),
}


def describe_problem(problem: dict) -> str:
    if problem.get("code") == "unmapped_area" and not problem.get("value"):
        return _("No area code was given.")
    text = PROBLEM_TEXTS.get(problem.get("code", ""))
    if text is None:
        return str(problem.get("code", ""))
    return text() % {"value": problem.get("value", "")}


def find_known(system: ExternalSystem, external_id: str) -> IntakeResult | None:
    """What became of an id taken in before: its case, or its review entry; None if new."""
    link = (
        ExternalCase.objects.filter(system=system, external_id=external_id)
        .select_related("case")
        .first()
    )
    if link is not None:
        return IntakeResult(DeliveryOutcome.DUPLICATE, case=link.case)
    review = IntakeReview.objects.filter(system=system, external_id=external_id).first()
    if review is not None:
        return IntakeResult(DeliveryOutcome.DUPLICATE, case=review.case, review=review)
    return None


def check_request(request: IntakeRequest) -> tuple[Any, list[dict]]:
    """The caller a request's case would have, and every problem that sends it to review.

    ``take_in`` decides with it; the admin's import preview shows it.
    """
    problems = list(request.problems)
    template = request.template
    if template is not None and not template.is_active:
        problems.append({"code": "inactive_template", "value": template.code})
    caller = None
    if request.community is not None:
        caller = community_caller(request.community)
        if caller is None:
            problems.append({"code": "no_official", "value": str(request.community)})
    return caller, problems


def take_in(system: ExternalSystem, request: IntakeRequest) -> IntakeResult:
    """Make the requested case, or find the one made before, or queue it for review."""
    known = find_known(system, request.external_id)
    if known is not None:
        return known
    caller, problems = check_request(request)
    if problems and request.photo:
        message = _(
            "A photo can only be received with a request we can file at once; this one "
            "would wait for review (%(problem)s). Send it without the photo, or give "
            "the photo as media_url."
        ) % {"problem": "; ".join(describe_problem(p) for p in problems)}
        raise ValidationFailed(message, fields={"media": [message]})
    try:
        with transaction.atomic():
            if problems:
                review = IntakeReview.objects.create(
                    system=system,
                    external_id=request.external_id,
                    community=request.community,
                    payload={"case": request.case_fields(), "received": request.payload},
                    problems=problems,
                )
                return IntakeResult(DeliveryOutcome.REVIEW, review=review)
            case = _create(system, request, caller=caller)
            return IntakeResult(DeliveryOutcome.CREATED, case=case)
    except IntegrityError:
        # A concurrent delivery of the same id won the unique link: answer with its case.
        known = find_known(system, request.external_id)
        if known is None:
            raise
        return known


def _create(system: ExternalSystem, request: IntakeRequest, *, caller) -> Case:
    template = request.template
    case = case_services.create_case(
        actor=None,
        via=system.name,
        caller=caller,
        community=request.community,
        title=request.title,
        description=request.description,
        template=template,
        answers=request.answers,
        address=request.address,
        latitude=request.latitude,
        longitude=request.longitude,
        priority=request.priority,
        source=system.source,
        external_id=f"{system.code}:{request.external_id}",
    )
    link = ExternalCase(
        system=system, external_id=request.external_id, case=case, media_url=request.media_url
    )
    if request.photo:
        link.media_file.save("photo.jpg", ContentFile(request.photo), save=False)
    try:
        link.save()
    except BaseException:
        if link.media_file:
            link.media_file.delete(save=False)  # no orphan file
        raise
    _enqueue(link, case.events.get(kind=EventKind.CREATED))  # the link did not exist yet
    return case


def record_delivery(
    system: ExternalSystem | None,
    *,
    channel: str,
    status_code: int,
    outcome: str,
    external_id: str = "",
    result: IntakeResult | None = None,
    error: DomainError | None = None,
    remote_addr: str | None = None,
    body: bytes | str = b"",
) -> Delivery:
    """Keep one inbound request and its outcome (refusals included).

    What the sender chose (``body``, ``external_id``, text in the message) is
    kept with each character the database refuses (NUL, unpaired surrogates)
    replaced by U+FFFD, so a refused request is logged like any other.
    """
    if isinstance(body, bytes):
        body = body[:20_000].decode("utf-8", errors="replace")
    body = scrub(body[:20_000])
    message = str(error) if error is not None else (result.message if result else "")
    return Delivery.objects.create(
        system=system,
        channel=channel,
        external_id=scrub(str(external_id)[:40]),
        outcome=outcome,
        status_code=status_code,
        error_code=error.code if error is not None else "",
        message=scrub(message),
        case=result.case if result is not None else None,
        review=result.review if result is not None else None,
        remote_addr=remote_addr,
        body=body,
    )


def record_throttled(
    system: ExternalSystem | None,
    *,
    channel: str,
    error: DomainError,
    remote_addr: str | None,
    since: datetime,
    status_code: int = 429,
) -> Delivery:
    """Count one refused request in the window's one row for its system, address and status.

    Throttled requests (429), and refusals past the window's budget of kept
    ones (``remote_addr`` ``None``), are not kept one by one: the first of a
    window (since ``since``) makes a row, every further one adds to its
    ``times``. Two processes racing on the first may make two rows; never more.
    """
    rows = Delivery.objects.filter(
        system=system,
        channel=channel,
        remote_addr=remote_addr,
        status_code=status_code,
        received_at__gte=since,
    )
    row = rows.order_by("id").first()
    if row is not None:
        Delivery.objects.filter(pk=row.pk).update(times=F("times") + 1)
        row.times += 1
        return row
    return record_delivery(
        system,
        channel=channel,
        status_code=status_code,
        outcome=DeliveryOutcome.REFUSED,
        error=error,
        remote_addr=remote_addr,
    )


# ------------------------------------------------------------------ review queue


def _lock_review(review: IntakeReview) -> IntakeReview:
    locked = (
        IntakeReview.objects.select_for_update(of=("self",))
        .select_related("system")
        .get(pk=review.pk)
    )
    if locked.state != ReviewState.PENDING:
        raise InvalidTransition(
            _("This delivery was already handled: %(state)s.")
            % {"state": locked.get_state_display()}
        )
    return locked


def _check_reviewer(actor, community=None) -> None:
    """Commanders over the community decide; so do the administrators who run the queue
    (``integrations.change_intakereview``: the system administrator, superusers)."""
    from accounts.selectors import covers_area

    if actor.has_perm("integrations.change_intakereview"):
        return
    if community is None or not covers_area(actor, [Role.COMMANDER], community):
        raise PermissionDenied(_("Only a commander over this community may handle it."))


@transaction.atomic
def resolve_review(
    review: IntakeReview, *, actor, template, community, remember: bool = False
) -> Case:
    """Make the case a commander decided on; ``remember`` saves the two mappings for next time."""
    locked = _lock_review(review)
    _check_reviewer(actor, community)
    request = IntakeRequest.from_review(locked)
    request.template, request.community, request.problems = template, community, []
    try:  # answers given for another template are kept in the review, not on the case
        request.answers = validate_answers(template, request.answers, require_all=False)
    except ValidationFailed:
        request.answers = {}
    caller, problems = check_request(request)
    if problems:
        raise ValidationFailed(
            "; ".join(describe_problem(p) for p in problems),
            fields={"community": [describe_problem(p) for p in problems]},
        )
    case = _create(locked.system, request, caller=caller)
    if remember:
        _remember_mappings(locked, template=template, community=community)
    locked.state, locked.case = ReviewState.RESOLVED, case
    locked.decided_by, locked.decided_at = actor, timezone.now()
    locked.save(update_fields=["state", "case", "decided_by", "decided_at"])
    _sync_review(review, locked)
    return case


def _remember_mappings(review: IntakeReview, *, template, community) -> None:
    codes = {p.get("code"): p.get("value") for p in review.problems}
    if codes.get("unmapped_category"):
        CategoryMapping.objects.get_or_create(
            system=review.system,
            external_code=codes["unmapped_category"],
            defaults={"template": template},
        )
    if codes.get("unmapped_area"):
        AreaMapping.objects.get_or_create(
            system=review.system,
            external_code=codes["unmapped_area"],
            defaults={"community": community},
        )


@transaction.atomic
def dismiss_review(review: IntakeReview, *, actor, reason: str) -> IntakeReview:
    """Drop a delivery that should not become a case (a test, a duplicate under another id)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give a reason."), fields={"note": [_("This field is required.")]})
    locked = _lock_review(review)
    _check_reviewer(actor, locked.community or _any_community_of(actor))
    locked.state, locked.note = ReviewState.DISMISSED, reason
    locked.decided_by, locked.decided_at = actor, timezone.now()
    locked.save(update_fields=["state", "note", "decided_by", "decided_at"])
    _sync_review(review, locked)
    return review


def _any_community_of(actor):
    """A delivery with no known community may be dismissed by any commander."""
    from accounts.selectors import role_assignments

    return next(
        (a.area for a in role_assignments(actor) if a.role == Role.COMMANDER and a.area), None
    )


def _sync_review(target: IntakeReview, source: IntakeReview) -> None:
    if target is not source:
        target.refresh_from_db()


# ------------------------------------------------------------------ outbound


def status_payload(link: ExternalCase, event: CaseEvent) -> dict:
    case = event.case
    return {
        "system": link.system.code,
        "external_id": link.external_id,
        "case": {"number": case.number, "state": case.state},
        "event": event.kind,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
        "at": event.created_at.isoformat(),
    }


def queue_status(event: CaseEvent) -> OutboundMessage | None:
    """Write the outbox row for a state change of an imported case (inside the step's transaction)."""
    case = event.case
    if case.source == CaseSource.VILLAGE or not event.to_state:
        return None
    link = ExternalCase.objects.filter(case=case).select_related("system").first()
    if link is None:
        return None
    post_photo(link, event)
    return _enqueue(link, event)


def post_photo(link: ExternalCase, event: CaseEvent) -> bool:
    """Post the photo the sender uploaded to the case's room, once the room is open.

    The case is taken in as a draft, whose room is closed; the first state
    change that opens it (dispatch) posts the photo through the room's own
    pipeline (``chat.services.post_attachment``: type sniffed, size bounded,
    re-encoded, watermarked), as the case's caller, with a caption naming the
    system. Returns whether it was posted now. A refusal (the caller's upload
    quota, say) is logged and leaves the step that opened the room alone; the
    next state change tries again.
    """
    from chat import selectors as chat_selectors
    from chat import services as chat_services

    if not link.media_file or link.media_posted or event.to_state not in chat_selectors.OPEN_STATES:
        return False
    case = event.case
    if case.caller is None:
        return False
    try:
        with transaction.atomic(), link.media_file.open("rb") as photo:
            posted = chat_services.post_attachment(
                case,
                sender=case.caller,
                kind="image",
                file=photo,
                caption=_("Photo sent with the report by %(system)s.")
                % {"system": link.system.name},
                client_id=f"open311-photo-{link.pk}",
            )
            ExternalCase.objects.filter(pk=link.pk).update(media_posted=True)
    except (DomainError, OSError):
        logger.warning("The photo of case %s could not be posted to its room.", case.number)
        return False
    link.media_posted = True
    return posted.created


def _enqueue(link: ExternalCase, event: CaseEvent) -> OutboundMessage | None:
    if not link.system.callback_url:
        return None
    message = OutboundMessage.objects.create(
        system=link.system,
        case=event.case,
        event=event,
        payload=status_payload(link, event),
        created_at=event.created_at,
    )
    transaction.on_commit(lambda: send_soon(message.pk))
    return message


def send_soon(message_id: int) -> None:
    """With a Celery broker, send at once; in-process, the scheduler's next flush sends it
    (never inside the person's request: a slow platform must not slow them down)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from integrations.tasks import deliver_outbound

    deliver_outbound.delay(message_id)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: 30 s, 1, 2, 4 … minutes, capped."""
    seconds = settings.JINSHAO_OUTBOX_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.JINSHAO_OUTBOX_MAX_DELAY_SECONDS))


def _lease(message_id: int, now) -> OutboundMessage | None:
    """Take the message for one try (other workers skip it until the lease ends)."""
    taken = (
        OutboundMessage.objects.due(now)
        .filter(pk=message_id)
        .update(leased_until=now + timedelta(seconds=settings.JINSHAO_OUTBOX_TIMEOUT_SECONDS * 3))
    )
    if not taken:
        return None
    message = OutboundMessage.objects.select_related("system").get(pk=message_id)
    earlier = OutboundMessage.objects.filter(
        case_id=message.case_id, state=OutboundState.PENDING, id__lt=message.pk
    ).exists()
    if earlier:  # statuses go out in order: wait for the earlier one
        OutboundMessage.objects.filter(pk=message_id).update(leased_until=None)
        return None
    return message


def post_signed(system: ExternalSystem, payload: dict, *, key: str) -> int:
    """POST ``payload`` to the system's callback URL, signed; the HTTP status (raises on no answer)."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        system.callback_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Jinshao-Timestamp": timestamp,
            "X-Jinshao-Signature": sign(system.secret, timestamp, body),
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(  # noqa: S310 (the URL is an administrator's https/http setting)
            request, timeout=settings.JINSHAO_OUTBOX_TIMEOUT_SECONDS
        ) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def deliver(message_id: int, *, now=None) -> bool:
    """One try at one message; True once it is acknowledged (now or before)."""
    now = now or timezone.now()
    message = _lease(message_id, now)
    if message is None:
        return OutboundMessage.objects.filter(pk=message_id, state=OutboundState.DELIVERED).exists()
    started = time.monotonic()
    status, error = None, ""
    try:
        status = post_signed(message.system, message.payload, key=f"jinshao-{message.pk}")
    except (OSError, ValueError) as exc:  # refused, timed out, bad URL
        error = f"{type(exc).__name__}: {exc}"[:1000]
    elapsed = int((time.monotonic() - started) * 1000)
    acknowledged = status is not None and 200 <= status < 300
    if status is not None and not acknowledged:
        error = _("The receiver answered HTTP %(status)s.") % {"status": status}
    with transaction.atomic():
        OutboundAttempt.objects.create(
            message=message, at=now, status_code=status, error=error, duration_ms=elapsed
        )
        attempts = message.attempts + 1
        changes: dict[str, Any] = {
            "attempts": attempts,
            "last_status": status,
            "last_error": error,
            "leased_until": None,
        }
        if acknowledged:
            changes.update(state=OutboundState.DELIVERED, delivered_at=timezone.now())
        else:
            changes.update(next_attempt_at=now + backoff(attempts))
        OutboundMessage.objects.filter(pk=message.pk).update(**changes)
    return acknowledged


def deliver_due(*, now=None, limit: int = 200) -> int:
    """Try every message that is due, oldest first; how many were acknowledged."""
    now = now or timezone.now()
    ids = list(OutboundMessage.objects.due(now).order_by("id").values_list("id", flat=True)[:limit])
    return sum(1 for message_id in ids if deliver(message_id, now=now))


@transaction.atomic
def retry_now(message: OutboundMessage, *, actor) -> bool:
    """Administrators: try a pending message at the next run instead of waiting out its delay."""
    from audit.services import record

    moved = OutboundMessage.objects.filter(pk=message.pk, state=OutboundState.PENDING).update(
        next_attempt_at=timezone.now()
    )
    if moved:
        record("integration.retry_now", actor=actor, obj=message)
    return bool(moved)
