"""Who is in a case's room, who may read it, and how much of it each person has not read."""

from __future__ import annotations

import contextlib

from django.core.cache import cache
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.choices import Role
from accounts.selectors import area_paths, commander_ids_over, has_role
from cases import permissions
from cases.choices import CaseState, InvitationState
from cases.models import Case, Invitation
from chat.models import Message, ReadState

#: A room takes new messages while the case is being worked.
OPEN_STATES = (CaseState.DISPATCHED, CaseState.IN_PROGRESS, CaseState.PENDING_RATING)


def member_ids(case: Case) -> set[int]:
    """The room: the caller, the commanders over the case, everyone invited who accepted."""
    accepted = Invitation.objects.filter(case=case, state=InvitationState.ACCEPTED)
    return (
        {case.caller_id}
        | commander_ids_over(case.community)
        | set(accepted.values_list("person_id", flat=True))
    )


MEMBERS_TTL = 30


def _members_key(case_id: int) -> str:
    return f"chat:members:{case_id}"


def cached_member_ids(case: Case) -> set[int]:
    """``member_ids`` kept for ``MEMBERS_TTL`` seconds, for alerting on every message.

    Forgotten when someone accepts or is taken off the case; a commander whose
    role changes is seen within the TTL. Never used to decide who may enter.
    """
    key = _members_key(case.pk)
    try:
        cached = cache.get(key)
    except Exception:  # the cache is down: ask the database
        cached = None
    if cached is not None:
        return set(cached)
    members = member_ids(case)
    with contextlib.suppress(Exception):
        cache.set(key, sorted(members), MEMBERS_TTL)
    return members


def forget_members(case_id: int) -> None:
    with contextlib.suppress(Exception):
        cache.delete(_members_key(case_id))


def is_member(case: Case, user) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    if permissions.is_superuser(user) or permissions.is_caller(case, user):
        return True
    if permissions.is_commander_of(case, user):
        return True
    return Invitation.objects.filter(
        case=case, person=user, state=InvitationState.ACCEPTED
    ).exists()


def can_read(case: Case, user) -> bool:
    """Members read the room; auditors read it too (read-only), for the record."""
    return is_member(case, user) or has_role(user, Role.AUDITOR)


def room_cases(user):
    """Open cases whose room ``user`` is in (for unread counts)."""
    condition = Q(caller=user) | Q(
        pk__in=Invitation.objects.filter(person=user, state=InvitationState.ACCEPTED).values(
            "case_id"
        )
    )
    for path in area_paths(user, [Role.COMMANDER]):
        condition |= Q(community__path__startswith=path)
    return Case.objects.filter(condition, state__in=OPEN_STATES)


def _last_read(user, case_ref):  # noqa: D103 - the person's read mark for ``case_ref``
    return Coalesce(
        Subquery(
            ReadState.objects.filter(case=case_ref, user=user).values("last_read_id")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def unread_subquery(user):
    """An expression for ``Case`` querysets: messages in the room ``user`` has not read.

    The person's own messages are never unread.
    """
    unread = (
        Message.objects.filter(case=OuterRef("pk"), id__gt=_last_read(user, OuterRef("case")))
        .exclude(sender=user)
        .order_by()
        .values("case")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))


def unread_by_case(user, *, limit: int = 50) -> list[dict]:
    """``[{"case", "number", "unread"}]`` for the open rooms with something unread."""
    rows = (
        room_cases(user)
        .annotate(unread=unread_subquery(user))
        .filter(unread__gt=0)
        .order_by("-unread", "-id")
        .values("id", "number", "unread")[:limit]
    )
    return [{"case": r["id"], "number": r["number"], "unread": r["unread"]} for r in rows]


def unread_total(user) -> int:
    """Messages not yet read across the open rooms ``user`` is in."""
    last_read = Coalesce(
        Subquery(
            ReadState.objects.filter(case=OuterRef("case"), user=user).values("last_read_id")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )
    return (
        Message.objects.filter(case__in=room_cases(user).values("pk"), id__gt=last_read)
        .exclude(sender=user)
        .count()
    )
