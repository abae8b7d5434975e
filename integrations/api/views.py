"""``POST /api/v1/intake/{system}/cases/``: the city platform files a case, signed.

Authentication is the signature, not a user: HMAC-SHA256 with the system's
shared secret over ``"<X-Jinshao-Timestamp>." + body``, sent as
``X-Jinshao-Signature: sha256=<hex>``; the timestamp must be within
``JINSHAO_INTAKE_WINDOW_SECONDS`` of our clock and a signature is accepted
once. A body holding text the database cannot store (a NUL, an unpaired
surrogate: ``core.text``) is refused 400 ``invalid_characters``. Every
request, refused or not, is kept as a ``Delivery`` (its text scrubbed), except that an
address refused too often is answered 429 before its request is read, and those
429s are counted in one row per window (``integrations.throttles``).
"""

from __future__ import annotations

import json

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.request import client_ip
from core.api.errors import error_body
from core.api.idempotency import idempotent
from core.api.throttles import WriteThrottle
from core.errors import DomainError, ValidationFailed
from core.text import refuse_characters
from integrations import services, throttles
from integrations.api.serializers import (
    DismissSerializer,
    IntakeAnswerSerializer,
    PlatformCaseSerializer,
    ResolveSerializer,
    ReviewSerializer,
)
from integrations.choices import DeliveryOutcome, ReviewState
from integrations.models import ExternalSystem
from integrations.selectors import reviews_visible_to


def _answer(result: services.IntakeResult) -> dict:
    case = result.case
    return {
        "outcome": result.outcome,
        "message": result.message,
        "case": {"id": case.pk, "number": case.number, "state": case.state} if case else None,
        "review": result.review.pk if result.review is not None else None,
    }


class IntakeView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="intake_case",
        tags=["intake"],
        request=PlatformCaseSerializer,
        parameters=[
            OpenApiParameter("X-Jinshao-Timestamp", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-Jinshao-Signature", str, OpenApiParameter.HEADER, required=True),
        ],
        responses={
            201: IntakeAnswerSerializer,
            200: OpenApiResponse(IntakeAnswerSerializer, description="Already taken in."),
            202: OpenApiResponse(IntakeAnswerSerializer, description="Waiting for review."),
        },
        auth=[],
    )
    def post(self, request, system: str):
        found = ExternalSystem.objects.filter(code=system).first()
        wait = throttles.retry_after(request)
        if wait is not None:
            return _throttled(request, found, wait)
        body = request.body
        try:
            if found is None:
                raise services.IntakeRefused(_("No such system."), code="unknown_system")
            with transaction.atomic():
                services.check_signature(
                    found,
                    timestamp=request.headers.get("X-Jinshao-Timestamp", ""),
                    signature=request.headers.get("X-Jinshao-Signature", ""),
                    body=body,
                )
            data = _json(body)
            refuse_characters(data)  # before anything is looked up or kept
            intake = services.parse_platform_case(found, data)
            with transaction.atomic():
                result = services.take_in(found, intake)
        except DomainError as exc:
            unauthenticated = found is None or isinstance(exc, services.IntakeRefused)
            if unauthenticated:
                throttles.count_refusal(request)  # counted by address, and in all
            if unauthenticated and not throttles.refusals_may_be_kept():
                services.record_throttled(
                    found,
                    channel="intake",
                    error=exc,
                    remote_addr=None,
                    since=throttles.current_window().started_at,
                    status_code=exc.http_status,
                )
            else:
                services.record_delivery(
                    found,
                    channel="intake",
                    status_code=exc.http_status,
                    outcome=DeliveryOutcome.REFUSED,
                    external_id=_external_id(body),
                    error=exc,
                    remote_addr=client_ip(request),
                    body=body,
                )
            return Response(error_body(exc.code, str(exc), exc.fields), status=exc.http_status)
        code = services.OUTCOME_STATUS[DeliveryOutcome(result.outcome)]
        services.record_delivery(
            found,
            channel="intake",
            status_code=code,
            outcome=result.outcome,
            external_id=intake.external_id,
            result=result,
            remote_addr=client_ip(request),
            body=body,
        )
        return Response(_answer(result), status=code)


def _throttled(request, found: ExternalSystem | None, wait: int) -> Response:
    """429 before the request is read: its address was refused too often in this window."""
    error = DomainError(
        _("Too many refused requests from this address; try again in %(seconds)d seconds.")
        % {"seconds": wait},
        code="throttled",
    )
    services.record_throttled(
        found,
        channel="intake",
        error=error,
        remote_addr=client_ip(request),
        since=throttles.current_window().started_at,
    )
    return Response(
        error_body(error.code, str(error)),
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(wait)},
    )


def _json(body: bytes):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed(_("The body is not valid JSON."), code="malformed_request") from None


def _external_id(body: bytes) -> str:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    return str(data.get("external_id", ""))[:40] if isinstance(data, dict) else ""


class IntakeReviewViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The review queue for commanders: deliveries that could not become cases by themselves."""

    serializer_class = ReviewSerializer
    throttle_classes = [WriteThrottle]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return reviews_visible_to(None)
        queryset = reviews_visible_to(self.request.user)
        if self.action == "list" and self.request.query_params.get("state", "pending") != "all":
            queryset = queryset.filter(state=ReviewState.PENDING)
        return queryset

    @extend_schema(request=ResolveSerializer, responses={201: ReviewSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def resolve(self, request, pk=None):
        """Make the case: choose the template and the community (and remember them)."""
        review = self.get_object()
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.resolve_review(review, actor=request.user, **data.validated_data)
        return Response(
            ReviewSerializer(self.get_queryset().get(pk=review.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=DismissSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def dismiss(self, request, pk=None):
        review = self.get_object()
        data = DismissSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.dismiss_review(review, actor=request.user, reason=data.validated_data["reason"])
        return Response(ReviewSerializer(self.get_queryset().get(pk=review.pk)).data)
