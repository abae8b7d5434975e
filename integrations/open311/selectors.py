"""Reads behind the Open311 endpoints: the services offered, the caller's system, its requests."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from cases.choices import CaseState, InvitationState
from cases.models import Case, Invitation
from core.crypto import secret_digest
from grids.choices import AreaLevel
from grids.models import Area
from integrations.models import AreaMapping, ExternalSystem, IntakeReview
from templates.choices import FieldKind
from templates.models import CaseTemplate, TemplateField

#: Our field kinds an Open311 client can answer, and the GeoReport datatype of each.
#: Photo fields are left out: their answers are references to attachments
#: uploaded through the phone API, which an Open311 client cannot make.
DATATYPES: dict[str, str] = {
    FieldKind.TEXT: "text",
    FieldKind.NUMBER: "number",
    FieldKind.CHOICE: "singlevaluelist",
    FieldKind.DATE: "datetime",
}

#: Case states an Open311 client sees as ``closed``; every other state is ``open``.
CLOSED_STATES = (CaseState.CLOSED, CaseState.CANCELLED)

#: The most requests one GET answers with (GeoReport's own default bound).
MAX_REQUESTS = 1000


def system_for_key(api_key: str) -> ExternalSystem | None:
    """The active system whose shared secret is ``api_key``, or ``None``.

    The keyed digest finds the row without decrypting every secret; the
    constant-time comparison with the decrypted secret decides.
    """
    if not api_key:
        return None
    for system in ExternalSystem.objects.filter(
        secret_digest=secret_digest(api_key), is_active=True
    ):
        if hmac.compare_digest(system.secret.encode(), api_key.encode()):
            return system
    return None


def offered_templates() -> QuerySet[CaseTemplate]:
    """The services: active templates of active categories, in the administrators' order."""
    return (
        CaseTemplate.objects.filter(is_active=True, category__is_active=True)
        .select_related("category")
        .prefetch_related("fields")
        .order_by("position", "code")
    )


def offered_fields(template: CaseTemplate) -> list[TemplateField]:
    """The template's form fields an Open311 client may answer, in form order."""
    return [f for f in template.fields.all() if f.kind in DATATYPES]


def community_for(system: ExternalSystem, code: str) -> Area | None:
    """The community ``code`` names: the system's own area mapping first, else our area code."""
    if not code:
        return None
    mapping = (
        AreaMapping.objects.filter(system=system, external_code=code)
        .select_related("community")
        .first()
    )
    if mapping is not None:
        return mapping.community
    return Area.objects.filter(code=code, level=AreaLevel.COMMUNITY, is_active=True).first()


@dataclass
class RequestQuery:
    """The filters of ``GET requests``; ``numbers``, when given, override all the others."""

    numbers: list[str] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    statuses: set[str] = field(default_factory=set)
    start: datetime | None = None
    end: datetime | None = None


def requests_of(system: ExternalSystem) -> QuerySet[Case]:
    """Every case ``system`` filed here (and only those), newest first, ready to be shown."""
    accepted = Invitation.objects.filter(state=InvitationState.ACCEPTED).select_related(
        "department"
    )
    return (
        Case.objects.filter(external__system=system)
        .select_related("template", "category", "external")
        .prefetch_related(Prefetch("invitations", queryset=accepted, to_attr="accepted"))
        .order_by("-created_at", "-id")
    )


def find_requests(system: ExternalSystem, query: RequestQuery) -> list[Case]:
    cases = requests_of(system)
    if query.numbers:
        return list(cases.filter(number__in=query.numbers)[:MAX_REQUESTS])
    if query.service_codes:
        cases = cases.filter(template__code__in=query.service_codes)
    if query.statuses == {"open"}:
        cases = cases.exclude(state__in=CLOSED_STATES)
    elif query.statuses == {"closed"}:
        cases = cases.filter(state__in=CLOSED_STATES)
    if query.start is not None:
        cases = cases.filter(created_at__gte=query.start)
    if query.end is not None:
        cases = cases.filter(created_at__lte=query.end)
    return list(cases[:MAX_REQUESTS])


def review_of(system: ExternalSystem, review_id: int) -> IntakeReview | None:
    return IntakeReview.objects.filter(system=system, pk=review_id).select_related("case").first()
