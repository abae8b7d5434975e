"""Shapes of cases, invitations and events for the phone; input checks for writes.

Serializers only shape and check fields; every change goes through
``cases.services`` in the views.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import UserBriefSerializer
from accounts.choices import Role
from accounts.models import User
from accounts.selectors import role_holders_over
from cases.choices import CaseState, InvitationState
from cases.models import Case, CaseEvent, ExtensionRequest, Invitation, SupervisionOrder
from cases.operations import OPERATIONS, available_operations
from cases.permissions import _accepted_person_ids
from cases.services import available_transitions
from core.api.serializers import ModelSerializer
from core.masking import mask_phone
from departments.models import Department
from grids.models import Area
from templates.choices import Priority
from templates.models import CaseTemplate, Category


class AreaBriefSerializer(ModelSerializer):
    class Meta:
        model = Area
        fields = ("id", "code", "name", "level")


class DepartmentBriefSerializer(ModelSerializer):
    class Meta:
        model = Department
        fields = ("id", "code", "name", "kind")


class CategoryBriefSerializer(ModelSerializer):
    class Meta:
        model = Category
        fields = ("id", "code", "name")


class ChoiceLabelField(serializers.CharField):
    """A choice field's label (``get_FOO_display``), from a dict built once.

    DRF calls a ``source`` that is a method through ``inspect.signature`` for every row
    (``get_state_display``: a sizable share of a 100-row page); this looks the value up.
    The label is a lazy translation, turned into text in the request's language.
    """

    def __init__(self, choices, **kwargs):
        self.labels = dict(choices)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return str(self.labels.get(value, value))


class InvitationSerializer(ModelSerializer):
    department = DepartmentBriefSerializer(read_only=True)
    person = UserBriefSerializer(read_only=True)
    state_label = ChoiceLabelField(InvitationState.choices, source="state")
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = (
            "id",
            "case",
            "department",
            "person",
            "phone",
            "state",
            "state_label",
            "reason",
            "invited_at",
            "responded_at",
        )

    def get_phone(self, invitation: Invitation) -> str:
        """The person's work phone in that department: whole only for the case's own people.

        The view puts ``unmask_phones`` in the context when
        ``core.masking.may_see_whole_phones(asker, case)``; everyone else reads ``138****1234``.
        """
        if hasattr(invitation, "staff_phone"):  # annotated (``cases.api.views``)
            phone = invitation.staff_phone or ""
        else:
            phone = next(
                (
                    m.phone
                    for m in invitation.person.memberships.all()
                    if m.department_id == invitation.department_id
                ),
                "",
            )
        return phone if self.context.get("unmask_phones") else mask_phone(phone)


_MISSING = object()


def plain_representation(serializer: serializers.Serializer, instance) -> dict:
    """``Serializer.to_representation`` without its per-field machinery, same output.

    For the fields whose source is one plain attribute (the case list's, and its nested
    community and category): read it with ``getattr`` and hand it to the field's own
    ``to_representation`` (``None`` stays ``None``, as in DRF); a nested serializer is done
    the same way; any other field (a dotted source, a method field, a missing attribute)
    takes DRF's own path. On a 100-row page DRF's ``get_attribute`` / ``_readable_fields``
    per field and row was a sizable share of the request (issue 16).
    """
    out: dict[str, object] = {}
    for field in serializer._readable_fields:
        attrs = field.source_attrs
        value = getattr(instance, attrs[0], _MISSING) if len(attrs) == 1 else _MISSING
        if value is _MISSING:
            try:
                value = field.get_attribute(instance)
            except serializers.SkipField:
                continue
        if value is None:
            out[field.field_name] = None
        elif isinstance(field, serializers.Serializer) and not getattr(field, "many", False):
            out[field.field_name] = plain_representation(field, value)
        else:
            out[field.field_name] = field.to_representation(value)
    return out


class CaseListSerializer(ModelSerializer):
    state_label = ChoiceLabelField(CaseState.choices, source="state")
    community = AreaBriefSerializer(read_only=True)
    category = CategoryBriefSerializer(read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    unread_messages = serializers.IntegerField(
        read_only=True, default=0, help_text=_("Messages in the case's room I have not read.")
    )

    class Meta:
        model = Case
        fields = (
            "id",
            "number",
            "title",
            "state",
            "state_label",
            "priority",
            "source",
            "community",
            "category",
            "address",
            "created_at",
            "deadline",
            "is_overdue",
            "unread_messages",
        )
        # A response shape: every field is always present (required and read-only in the
        # schema), e.g. ``state``, ``created_at``, ``priority`` and ``source``.
        read_only_fields = fields

    def to_representation(self, instance):
        if type(self) is CaseListSerializer:  # the list's rows: the plain path
            return plain_representation(self, instance)
        return super().to_representation(instance)


# The list's rows as ``.values()``: the case's own columns, its community's and category's.
CASE_LIST_VALUES = (
    "id",
    "number",
    "title",
    "state",
    "priority",
    "source",
    "community__id",
    "community__code",
    "community__name",
    "community__level",
    "category__id",
    "category__code",
    "category__name",
    "address",
    "created_at",
    "deadline",
    "unread_messages",
)
_OVERDUE_STATES = frozenset((CaseState.DISPATCHED, CaseState.IN_PROGRESS))
#: ``(name, key or None, field, nested)``; ``nested`` has the same shape, or is None.
ListFieldSpec = tuple[str, "str | None", serializers.Field, "list[Any] | None"]
_list_fields: list[ListFieldSpec] | None = None


def _case_list_fields() -> list[ListFieldSpec]:
    """``[(name, key or None, field, nested)]`` in ``CaseListSerializer``'s order, built once.

    ``nested``: for ``community`` and ``category``, the same list for their own fields
    (keys ``community__id`` …); ``key`` is ``None`` for ``is_overdue`` (computed).
    """
    global _list_fields
    if _list_fields is None:
        spec: list[ListFieldSpec] = []
        for name, field in CaseListSerializer().fields.items():
            if isinstance(field, serializers.Serializer):
                nested: list[Any] = [(n, f"{name}__{n}", f, None) for n, f in field.fields.items()]
                spec.append((name, None, field, nested))
            else:
                key = None if name == "is_overdue" else field.source
                spec.append((name, key, field, None))
        _list_fields = spec
    return _list_fields


def case_list_rows(rows: list[dict]) -> list[dict]:
    """The case list's rows from ``.values(*CASE_LIST_VALUES)``: ``CaseListSerializer``'s output.

    Same keys, order and values as the serializer over model instances (each value goes
    through its own field's ``to_representation``; ``None`` stays ``None``; ``is_overdue``
    as ``Case.is_overdue``), without building a case, community and category per row
    (issue 16; ``tests/api/test_list_shape.py`` compares the two).
    """
    spec = _case_list_fields()
    now = timezone.now()
    out = []
    for row in rows:
        item: dict[str, object] = {}
        for name, key, field, nested in spec:
            if nested is not None:
                item[name] = {
                    n: None if (v := row[k]) is None else f.to_representation(v)
                    for n, k, f, _ in nested
                }
            elif key is None:
                deadline = row["deadline"]
                item[name] = bool(deadline and row["state"] in _OVERDUE_STATES and now > deadline)
            else:
                value = row[key]
                item[name] = None if value is None else field.to_representation(value)
        out.append(item)
    return out


OPERATIONS_HELP = "Operations the asker may take now, each at its endpoint: " + "; ".join(
    f"`{op.name}`: {op.method} {op.path}" for op in OPERATIONS
)


class CaseDetailSerializer(CaseListSerializer):
    caller = UserBriefSerializer(read_only=True)
    invitations = InvitationSerializer(many=True, read_only=True)
    participants = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = CaseListSerializer.Meta.fields + (  # type: ignore[assignment]
            "description",
            "template",
            "answers",
            "latitude",
            "longitude",
            "caller",
            "external_id",
            "submitted_at",
            "dispatched_at",
            "first_accepted_at",
            "completed_at",
            "closed_at",
            "cancelled_at",
            "response_deadline",
            "invitations",
            "participants",
            "allowed_transitions",
            "available_actions",
        )
        read_only_fields = fields  # type: ignore[assignment]

    @extend_schema_field(UserBriefSerializer(many=True))
    def get_participants(self, case: Case) -> list[dict]:
        """The case's people (``cases.permissions.case_people_ids``), caller first: the room."""
        # One query: the caller and the accepted invitees by id, the commanders over the
        # community by a subquery (``case_people_ids``'s three parts).
        known = {case.caller_id} | _accepted_person_ids(case)
        commanders = role_holders_over(case.community, Role.COMMANDER)
        people = sorted(
            User.objects.filter(Q(pk__in=known) | Q(pk__in=commanders)),
            key=lambda u: (u.pk != case.caller_id, u.name, u.pk),
        )
        return UserBriefSerializer(people, many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, case: Case) -> list[str]:
        """The transitions the asker may take now (POST ``cases/{id}/<name>/``)."""
        return available_transitions(case, self.context["request"].user)

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=[op.name for op in OPERATIONS]),
            help_text=OPERATIONS_HELP,
        )
    )
    def get_available_actions(self, case: Case) -> list[str]:
        """Every operation the asker may take on the case now (``cases.operations``): the
        server accepts each listed one (input aside) and refuses each one not listed."""
        return available_operations(self.context["request"].user, case)


class InvitationAcceptedSerializer(InvitationSerializer):
    """An accepted invitation with the case it moved (``POST invitations/{id}/accept/``)."""

    updated_case = CaseDetailSerializer(read_only=True)

    class Meta(InvitationSerializer.Meta):
        fields = InvitationSerializer.Meta.fields + ("updated_case",)  # type: ignore[assignment]


class _HeldPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A primary key looked up among the rows its list read in one query
    (``InviteeListSerializer``); one it did not find is looked up (and refused) as usual."""

    def to_internal_value(self, data):
        held = getattr(self.parent, "held_rows", {}).get(self.field_name, {})
        if type(data) is int and data in held:
            return held[data]
        return super().to_internal_value(data)


class HeldRowsListSerializer(serializers.ListSerializer):
    """A list whose items name rows by primary key (invitees, ratings): the rows of the
    whole list in one query per field (not one per item), then each item checked as before."""

    def to_internal_value(self, data):
        if isinstance(data, list):
            held = {}
            for name, field in self.child.fields.items():
                if not isinstance(field, _HeldPrimaryKeyField):
                    continue
                ids = {
                    item[name]
                    for item in data
                    if isinstance(item, dict)
                    and type(item.get(name)) is int
                    and 0 < item[name] < 2**63  # others: the field's own lookup refuses them
                }
                held[name] = field.get_queryset().in_bulk(ids) if ids else {}
            self.child.held_rows = held
        return super().to_internal_value(data)


class InviteeSerializer(serializers.Serializer):
    department = _HeldPrimaryKeyField(queryset=Department.objects.active())
    person = _HeldPrimaryKeyField(queryset=User.objects.filter(is_active=True))

    class Meta:
        list_serializer_class = HeldRowsListSerializer


class CaseCreateSerializer(serializers.Serializer):
    """Raise a case from a template in one call, as a draft or submitted at once."""

    community = serializers.PrimaryKeyRelatedField(queryset=Area.objects.communities())
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )
    template = serializers.PrimaryKeyRelatedField(
        queryset=CaseTemplate.objects.filter(is_active=True), required=False, allow_null=True
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True
    )
    answers = serializers.DictField(required=False, default=dict)
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, min_value=-90, max_value=90
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-180,
        max_value=180,
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True)
    invitees = InviteeSerializer(many=True, required=False, default=list)
    submit = serializers.BooleanField(
        required=False, default=False, help_text=_("Submit for review at once.")
    )


class CaseDraftUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    address = serializers.CharField(required=False, allow_blank=True, max_length=200)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, min_value=-90, max_value=90
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-180,
        max_value=180,
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    answers = serializers.DictField(required=False)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class InviteSerializer(InviteeSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class EventSerializer(ModelSerializer):
    actor = UserBriefSerializer(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = CaseEvent
        fields = (
            "id",
            "kind",
            "kind_label",
            "actor",
            "from_state",
            "to_state",
            "note",
            "data",
            "created_at",
        )


class DepartmentRatingSerializer(serializers.Serializer):
    department = _HeldPrimaryKeyField(queryset=Department.objects.all())
    scores = serializers.DictField(child=serializers.IntegerField(min_value=0, max_value=100))
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    class Meta:
        list_serializer_class = HeldRowsListSerializer


class RateSerializer(serializers.Serializer):
    ratings = DepartmentRatingSerializer(many=True, allow_empty=False)


class RatingSerializer(serializers.Serializer):
    """A rating as the caller and auditors see it: by department, never by rater."""

    department = DepartmentBriefSerializer()
    overall = serializers.DecimalField(max_digits=5, decimal_places=2)
    scores = serializers.DictField(child=serializers.IntegerField())
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


STATES = [s.value for s in CaseState]


# ------------------------------------------------------------------ supervision


class RedispatchSerializer(serializers.Serializer):
    invitees = InviteeSerializer(many=True, allow_empty=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SupervisionOrderSerializer(ModelSerializer):
    issued_by = UserBriefSerializer(read_only=True)
    answered_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = SupervisionOrder
        fields = (
            "id",
            "case",
            "issued_by",
            "instruction",
            "due_at",
            "state",
            "answer",
            "answered_by",
            "answered_at",
            "created_at",
        )
        read_only_fields = fields


class SupervisionOrderCreateSerializer(serializers.Serializer):
    instruction = serializers.CharField(max_length=2000)
    due_at = serializers.DateTimeField()


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=2000)


class ExtensionSerializer(ModelSerializer):
    requested_by = UserBriefSerializer(read_only=True)
    decided_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = ExtensionRequest
        fields = (
            "id",
            "case",
            "requested_by",
            "reason",
            "current_deadline",
            "requested_deadline",
            "state",
            "decided_by",
            "decided_at",
            "decision_note",
            "created_at",
        )
        read_only_fields = fields


class ExtensionCreateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    until = serializers.DateTimeField(help_text=_("The handling deadline asked for."))


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text=_("Required when refusing."),
    )
