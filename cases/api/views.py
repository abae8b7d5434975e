"""Cases over HTTP: thin views that pick the scoped queryset, call a service, answer.

A case the asker may not see is a 404 exactly like a case that does not
exist; an action they may not take on a case they can see is a 403.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import django_filters
from django.db.models import (
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.services import audit_personal_data, audit_personal_data_many
from cases import operations, permissions, services
from cases.api import serializers as s
from cases.choices import CaseSource, CaseState, ExtensionState, OrderState
from cases.models import Case, CaseEvent, ExtensionRequest, Invitation, SupervisionOrder
from chat.selectors import unread_subquery
from core.api.filters import IdFilter, LocalDayFilter
from core.api.idempotency import idempotent
from core.api.pagination import NewestFirstCursorPagination
from core.api.throttles import WriteThrottle
from core.api.viewsets import ScopedGenericViewSet
from core.db import retry_once
from core.errors import PermissionDenied
from core.masking import may_see_whole_phones
from departments.models import StaffMembership
from grids.models import Area
from ratings.models import Rating
from ratings.services import rate_departments


class CaseFilter(django_filters.FilterSet):
    # distinct=False: no join to multiply rows, and DISTINCT would sort whole rows.
    state = django_filters.MultipleChoiceFilter(choices=CaseState.choices, distinct=False)
    source = django_filters.ChoiceFilter(choices=CaseSource.choices)
    category = IdFilter(field_name="category_id")
    area = IdFilter(method="in_area", label=_("Area (its whole subtree)"))
    department = IdFilter(method="with_department", label=_("Invited department"))
    overdue = django_filters.BooleanFilter(
        method="is_overdue", label=_("Past the handling deadline")
    )
    created_after = LocalDayFilter(field_name="created_at", side="after")
    created_before = LocalDayFilter(field_name="created_at", side="before")
    q = django_filters.CharFilter(method="search", label=_("Number, title or address contains"))

    class Meta:
        model = Case
        fields = ["state", "source", "category"]

    def in_area(self, queryset, name, value):
        area = Area.objects.filter(pk=value).first()
        return queryset.in_area(area) if area else queryset.none()

    def with_department(self, queryset, name, value):
        return queryset.filter(
            pk__in=Invitation.objects.filter(department_id=value).values("case_id")
        )

    def is_overdue(self, queryset, name, value):
        overdue = Q(
            deadline__lt=timezone.now(), state__in=[CaseState.DISPATCHED, CaseState.IN_PROGRESS]
        )
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__icontains=value) | Q(title__icontains=value) | Q(address__icontains=value)
        )


def phone_context(request, case: Case, context: dict, what: str) -> dict:
    """``context`` plus whether phones show whole (``core.masking.may_see_whole_phones``:
    the directory's keepers and the case's own people).

    Each whole showing is an audited read of personal data.
    """
    unmask = may_see_whole_phones(request.user, case)
    if unmask:
        audit_personal_data(request, case, what)
    return {**context, "unmask_phones": unmask}


def _invitations_with_phones():
    """Invitations with their department, person and the person's work phone in that
    department (``staff_phone``, decrypted like the field): one query, no prefetch."""
    phone = StaffMembership._meta.get_field("phone")
    return Invitation.objects.select_related("department", "person").annotate(
        staff_phone=Subquery(
            StaffMembership.objects.filter(
                user_id=OuterRef("person_id"), department_id=OuterRef("department_id")
            )
            .order_by("pk")
            .values("phone")[:1],
            output_field=phone,
        )
    )


def _room_lines_posted(case: Case) -> int:
    """The room's system lines the service just posted for ``case`` (``chat.services``
    counts them on the case it holds; ``cases.services._sync`` hands them on)."""
    return case.__dict__.pop("room_lines_posted", 0)


#: A case's own lists (events, invitations, ratings, …) come whole: neither filtered by the
#: case list's filters nor paginated, and so the schema documents them.
WHOLE_LIST: dict[str, Any] = {"filter_backends": [], "pagination_class": None}

#: Transition name → (service, input serializer, the input field the service takes).
TRANSITIONS: dict[str, tuple[Callable[..., Case], type[serializers.Serializer], str]] = {
    "submit": (services.submit_case, s.NoteSerializer, "note"),
    "approve": (services.approve_case, s.NoteSerializer, "note"),
    "send_back": (services.send_back_case, s.ReasonSerializer, "reason"),
    "cancel": (services.cancel_case, s.ReasonSerializer, "reason"),
    "complete": (services.complete_case, s.NoteSerializer, "note"),
    "reopen": (services.reopen_case, s.ReasonSerializer, "reason"),
}


def op_doc(name: str) -> str:
    """The API description of operation ``name``: the table's words, who may, and where it
    shows (``cases.operations``)."""
    op = operations.BY_NAME[name]
    return (
        f"{op.description}\n\nListed in the case's `available_actions` as `{op.name}` exactly "
        "when the server accepts it from the asker now (input aside)."
    )


def _transition_action(name: str):
    service, input_serializer, field = TRANSITIONS[name]

    @idempotent
    def view(self, request, pk=None):
        case = self.get_object()
        data = input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        retry_once(lambda: service(case, actor=request.user, **{field: data.validated_data[field]}))
        return Response(self.answer_data(case))

    view.__name__ = name
    # extend_schema goes outside @action: @action replaces the function's schema kwargs.
    return extend_schema(
        request=input_serializer,
        responses={
            200: s.CaseDetailSerializer,
            400: OpenApiResponse(description=_("Malformed input or missing reason.")),
            403: OpenApiResponse(description=_("You may not take this action on this case.")),
            404: OpenApiResponse(description=_("No such case, or not yours to see.")),
            409: OpenApiResponse(
                description=_("The case's state does not allow it, or it changed meanwhile.")
            ),
        },
        summary=str(name).replace("_", " "),
        description=op_doc(name),
    )(action(detail=True, methods=["post"], url_path=name)(view))


class CaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    ScopedGenericViewSet,
):
    """Cases the asker may see: list with filters, read one, raise, edit a draft, move.

    A case's own lists (invitations, orders, extensions, events, ratings) read
    their model's ``visible_to`` too, within the case found by ``get_object``.
    """

    queryset = Case.objects.select_related("community", "category")
    filterset_class = CaseFilter
    pagination_class = NewestFirstCursorPagination
    throttle_classes = [WriteThrottle]

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        user = self.request.user
        queryset = queryset.annotate(unread_messages=unread_subquery(user))
        if self.action in ("retrieve", "invitations"):  # they show the invitations
            queryset = self.with_invitations(queryset)
        elif self.action != "list":  # a write answers with the case it found (answer_data)
            queryset = self.with_detail(queryset)
        return queryset

    @staticmethod
    def with_detail(queryset):
        """What a case's detail shows besides its invitations, in the case's own query: the
        caller, and whether an open supervision order or a pending extension request
        exists (``cases.operations`` asks for them only when one does)."""
        open_orders = SupervisionOrder.objects.filter(case=OuterRef("pk"), state=OrderState.OPEN)
        pending = ExtensionRequest.objects.filter(case=OuterRef("pk"), state=ExtensionState.PENDING)
        return queryset.select_related("caller").annotate(
            open_order_id=Subquery(open_orders.order_by("pk").values("pk")[:1]),
            pending_extension_id=Subquery(pending.order_by("pk").values("pk")[:1]),
        )

    @staticmethod
    def with_invitations(queryset):
        """The case detail's own rows: the caller, the invitations with their phones.

        Only reads that show them take them: a write finds its case with one query, and
        its answer (``detail_data``) reads them once, after the service.
        """
        return CaseViewSet.with_detail(queryset).prefetch_related(
            Prefetch("invitations", queryset=_invitations_with_phones())
        )

    def filter_queryset(self, queryset):
        """The list's filters narrow the list; one case and its own pages are found by id alone."""
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def list(self, request, *args, **kwargs):
        """The asker's cases, newest first: rows read as ``.values()`` and shaped in Python
        (``serializers.case_list_rows``; the same output as ``CaseListSerializer``)."""
        queryset = self.filter_queryset(self.get_queryset()).values(*s.CASE_LIST_VALUES)
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(s.case_list_rows(list(queryset)))
        return self.get_paginated_response(s.case_list_rows(page))

    def get_serializer_class(self):
        return {
            "list": s.CaseListSerializer,
            "create": s.CaseCreateSerializer,
            "partial_update": s.CaseDraftUpdateSerializer,
        }.get(self.action, s.CaseDetailSerializer)

    def case_context(self, case: Case) -> dict:
        """Serializer context for one case: its own people see phone numbers whole."""
        return phone_context(self.request, case, self.get_serializer_context(), "case_phones")

    def answer_data(
        self, case: Case, *, prefetched: bool = False, context: dict | None = None
    ) -> dict:
        """The detail of the case a write found (``get_object``) and its service brought up
        to date (``cases.services._sync``): no second read of the case. Its invitations
        are read once, as they are now; the unread count is the one read with the case plus
        the room's system lines the step posted (all newer than anything the asker read)."""
        unread = getattr(case, "unread_messages", 0) + _room_lines_posted(case)
        case.unread_messages = unread  # type: ignore[attr-defined]  # the list's annotation
        if not prefetched:  # read now, after the service: as they are now
            getattr(case, "_prefetched_objects_cache", {}).pop("invitations", None)
            prefetch_related_objects(
                [case], Prefetch("invitations", queryset=_invitations_with_phones())
            )
        context = context if context is not None else self.case_context(case)
        return s.CaseDetailSerializer(case, context=context).data

    def detail_data(self, pk: int) -> dict:
        queryset = self.get_queryset()
        if self.action not in ("retrieve", "invitations"):  # those already take them
            queryset = self.with_invitations(queryset)
        case = queryset.get(pk=pk)
        return s.CaseDetailSerializer(case, context=self.case_context(case)).data

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        return Response(s.CaseDetailSerializer(case, context=self.case_context(case)).data)

    @extend_schema(request=s.CaseCreateSerializer, responses={201: s.CaseDetailSerializer})
    @idempotent
    def create(self, request, *args, **kwargs):
        data = s.CaseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        invitees = [(i["department"], i["person"]) for i in fields.pop("invitees")]
        case = retry_once(
            lambda: services.create_case(actor=request.user, invitees=invitees, **fields)
        )
        # The new case as the service built it (community, category, caller held): nothing
        # else can exist for it yet but the room's lines the service posted.
        case.unread_messages = 0  # the list's annotation
        case.open_order_id = case.pending_extension_id = None
        return Response(self.answer_data(case), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.CaseDraftUpdateSerializer,
        responses={200: s.CaseDetailSerializer},
        description=op_doc("edit_draft"),
    )
    @idempotent
    def partial_update(self, request, pk=None):
        case = self.get_object()
        data = s.CaseDraftUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        services.update_draft(
            case, actor=request.user, answers=changes.pop("answers", None), **changes
        )
        return Response(self.detail_data(case.pk))

    submit = _transition_action("submit")
    approve = _transition_action("approve")
    send_back = _transition_action("send_back")
    cancel = _transition_action("cancel")
    complete = _transition_action("complete")
    reopen = _transition_action("reopen")

    @extend_schema(methods=["get"], responses=s.InvitationSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.InviteSerializer,
        responses={201: s.InvitationSerializer},
        description=op_doc("invite"),
    )
    @action(detail=True, methods=["get", "post"], **WHOLE_LIST)
    @idempotent
    def invitations(self, request, pk=None):
        case = self.get_object()
        context = self.case_context(case)
        if request.method == "GET":
            # Prefetched with the case (``get_queryset``): a visible case's invitations are
            # exactly ``Invitation.objects.visible_to`` of it.
            return Response(
                s.InvitationSerializer(case.invitations.all(), many=True, context=context).data
            )
        data = s.InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invite_person(case, actor=request.user, **data.validated_data)
        invitation = _invitations_with_phones().get(pk=invitation.pk)
        return Response(
            s.InvitationSerializer(invitation, context=context).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=s.ReasonSerializer, responses=s.CaseDetailSerializer, description=op_doc("return")
    )
    @action(detail=True, methods=["post"], url_path="return")
    @idempotent
    def return_case(self, request, pk=None):
        """An invited department sends the case back (退回) with a reason."""
        case = self.get_object()
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.return_case(case, actor=request.user, reason=data.validated_data["reason"])
        return Response(self.detail_data(case.pk))

    @extend_schema(
        request=s.RedispatchSerializer,
        responses=s.CaseDetailSerializer,
        description=op_doc("redispatch"),
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def redispatch(self, request, pk=None):
        """Invite others to a case waiting for a department; the response clock restarts."""
        case = self.get_object()
        data = s.RedispatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitees = [(i["department"], i["person"]) for i in data.validated_data["invitees"]]
        services.redispatch_case(
            case, actor=request.user, invitees=invitees, note=data.validated_data["note"]
        )
        return Response(self.detail_data(case.pk))

    @extend_schema(methods=["get"], responses=s.SupervisionOrderSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.SupervisionOrderCreateSerializer,
        responses={201: s.SupervisionOrderSerializer},
        description=op_doc("supervise"),
    )
    @action(detail=True, methods=["get", "post"], url_path="supervision-orders", **WHOLE_LIST)
    @idempotent
    def supervision_orders(self, request, pk=None):
        """Supervision orders (督办): leaders and grid leaders issue them."""
        case = self.get_object()
        if request.method == "GET":
            orders = (
                SupervisionOrder.objects.visible_to(request.user)
                .filter(case=case)
                .select_related("issued_by", "answered_by")
            )
            return Response(s.SupervisionOrderSerializer(orders, many=True).data)
        data = s.SupervisionOrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.issue_supervision_order(case, actor=request.user, **data.validated_data)
        return Response(s.SupervisionOrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=s.ExtensionSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.ExtensionCreateSerializer,
        responses={201: s.ExtensionSerializer},
        description=op_doc("ask_extension"),
    )
    @action(detail=True, methods=["get", "post"], **WHOLE_LIST)
    @idempotent
    def extensions(self, request, pk=None):
        """Extension requests (延期): handlers ask, the commander decides."""
        case = self.get_object()
        if request.method == "GET":
            requests = (
                ExtensionRequest.objects.visible_to(request.user)
                .filter(case=case)
                .select_related("requested_by", "decided_by")
            )
            return Response(s.ExtensionSerializer(requests, many=True).data)
        data = s.ExtensionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        extension = services.request_extension(case, actor=request.user, **data.validated_data)
        return Response(s.ExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.EventSerializer(many=True))
    @action(detail=True, methods=["get"], **WHOLE_LIST)
    def events(self, request, pk=None):
        case = self.get_object()
        events = (
            CaseEvent.objects.visible_to(request.user)
            .filter(case=case)
            .select_related("actor")
            .order_by("created_at", "id")
        )
        return Response(s.EventSerializer(events, many=True).data)

    @extend_schema(methods=["get"], responses=s.RatingSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.RateSerializer,
        responses={200: s.CaseDetailSerializer},
        description=op_doc("rate"),
    )
    @action(detail=True, methods=["get", "post"], **WHOLE_LIST)
    @idempotent
    def ratings(self, request, pk=None):
        case = self.get_object()
        if request.method == "GET":
            if not permissions.can_read_ratings(case, request.user):
                raise PermissionDenied(
                    _("Only the caller and auditors may read the ratings of one case.")
                )
            return Response(self._ratings_of(case, request.user))
        data = s.RateSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        # Every department of the request, or none.
        retry_once(
            lambda: rate_departments(case, actor=request.user, items=data.validated_data["ratings"])
        )
        return Response(self.answer_data(case))

    def _ratings_of(
        self, case: Case, user
    ) -> builtins.list[dict]:  # `list` is the view action here
        ratings = (
            Rating.objects.visible_to(user)
            .filter(case=case)
            .select_related("department")
            .prefetch_related("scores__criterion")
        )
        return s.RatingSerializer(
            [
                {
                    "department": r.department,
                    "overall": r.overall,
                    "comment": r.comment,
                    "created_at": r.created_at,
                    "scores": {sc.criterion.code: sc.score for sc in r.scores.all()},
                }
                for r in ratings
            ],
            many=True,
        ).data


class InvitationViewSet(mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """One invitation; the invited person accepts or declines it."""

    queryset = _invitations_with_phones()
    serializer_class = s.InvitationSerializer
    throttle_classes = [WriteThrottle]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "accept" and not getattr(self, "swagger_fake_view", False):
            # The answer's ``updated_case`` shows these besides the case's row: read here,
            # with the invitation, not in a second read after the step.
            orders = SupervisionOrder.objects.filter(
                case=OuterRef("case_id"), state=OrderState.OPEN
            )
            pending = ExtensionRequest.objects.filter(
                case=OuterRef("case_id"), state=ExtensionState.PENDING
            )
            queryset = queryset.annotate(
                case_unread_messages=unread_subquery(self.request.user, "case_id"),
                case_open_order_id=Subquery(orders.order_by("pk").values("pk")[:1]),
                case_pending_extension_id=Subquery(pending.order_by("pk").values("pk")[:1]),
            )
        return queryset

    def invitation_data(self, pk: int) -> dict:
        invitation = self.get_queryset().select_related("case__community").get(pk=pk)
        context = phone_context(
            self.request, invitation.case, self.get_serializer_context(), "invitation_phone"
        )
        return s.InvitationSerializer(invitation, context=context).data

    def retrieve(self, request, *args, **kwargs):
        return Response(self.invitation_data(self.get_object().pk))

    def answer(self, request, service, input_serializer, field: str):
        """Read the input, call the service on the invitation, answer with the invitation."""
        invitation = self.get_object()
        data = input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        retry_once(
            lambda: service(invitation, actor=request.user, **{field: data.validated_data[field]})
        )
        return Response(self.invitation_data(invitation.pk))

    @extend_schema(
        request=s.NoteSerializer,
        responses=s.InvitationAcceptedSerializer,
        description=op_doc("accept"),
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def accept(self, request, pk=None):
        """The invitation as before, plus ``updated_case``: the case as it is now (moved to
        in progress by the first acceptance), so the phone need not read it again.

        Both are built from the rows the service holds: the invitation found here (with its
        department, person and phone) and the case it locked (``invitation.case``)."""
        invitation = self.get_object()
        data = s.NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        retry_once(
            lambda: services.accept_invitation(
                invitation, actor=request.user, note=data.validated_data["note"]
            )
        )
        case = invitation.case
        # What the case's detail shows beyond its row was read with the invitation
        # (``get_queryset``), before the step: the step adds only its room lines.
        for name in ("unread_messages", "open_order_id", "pending_extension_id"):
            setattr(case, name, getattr(invitation, f"case_{name}"))
        prefetch_related_objects(
            [case], Prefetch("invitations", queryset=_invitations_with_phones())
        )
        # Both parts show phones: one rule, both reads recorded, in one INSERT.
        unmask = may_see_whole_phones(request.user, case)
        if unmask:
            audit_personal_data_many(request, [(case, "invitation_phone"), (case, "case_phones")])
        context = {**self.get_serializer_context(), "unmask_phones": unmask}
        answer = s.InvitationSerializer(invitation, context=context).data
        case_view = CaseViewSet(request=request, action="accept", format_kwarg=None, kwargs={})
        case_context = {**case_view.get_serializer_context(), "unmask_phones": unmask}
        return Response(
            {
                **answer,
                "updated_case": case_view.answer_data(case, prefetched=True, context=case_context),
            }
        )

    @extend_schema(
        request=s.ReasonSerializer, responses=s.InvitationSerializer, description=op_doc("withdraw")
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def withdraw(self, request, pk=None):
        """The caller or a commander takes the person off the case (they leave its room)."""
        return self.answer(request, services.withdraw_invitation, s.ReasonSerializer, "reason")

    @extend_schema(
        request=s.ReasonSerializer, responses=s.InvitationSerializer, description=op_doc("decline")
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def decline(self, request, pk=None):
        return self.answer(request, services.decline_invitation, s.ReasonSerializer, "reason")


class SupervisionOrderViewSet(mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """One supervision order of a case the asker may see; handlers answer it."""

    queryset = SupervisionOrder.objects.select_related("issued_by", "answered_by")
    serializer_class = s.SupervisionOrderSerializer
    throttle_classes = [WriteThrottle]

    @extend_schema(
        request=s.AnswerSerializer,
        responses=s.SupervisionOrderSerializer,
        description=op_doc("answer_order"),
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def answer(self, request, pk=None):
        order = self.get_object()
        data = s.AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.answer_supervision_order(
            order, actor=request.user, answer=data.validated_data["answer"]
        )
        return Response(s.SupervisionOrderSerializer(self.get_queryset().get(pk=order.pk)).data)


class ExtensionViewSet(mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """One extension request of a case the asker may see; the commander decides it."""

    queryset = ExtensionRequest.objects.select_related("requested_by", "decided_by")
    serializer_class = s.ExtensionSerializer
    throttle_classes = [WriteThrottle]

    def decide(self, request, *, approve: bool):
        extension = self.get_object()
        data = s.DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.decide_extension(
            extension, actor=request.user, approve=approve, note=data.validated_data["note"]
        )
        return Response(s.ExtensionSerializer(self.get_queryset().get(pk=extension.pk)).data)

    @extend_schema(
        request=s.DecisionSerializer,
        responses=s.ExtensionSerializer,
        description=op_doc("decide_extension") + " This approves it.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def approve(self, request, pk=None):
        return self.decide(request, approve=True)

    @extend_schema(
        request=s.DecisionSerializer,
        responses=s.ExtensionSerializer,
        description=op_doc("decide_extension") + " This refuses it (a note is required).",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def refuse(self, request, pk=None):
        return self.decide(request, approve=False)
