"""Who is in a case's room, who may read it, and how much of it each person has not read."""

from __future__ import annotations

import contextlib

from django.core.cache import cache
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.choices import Role
from accounts.selectors import has_role
from cases import permissions
from cases.choices import CaseState
from cases.models import Case
from chat.models import Message, ReadState

#: A room takes new messages while the case is being worked.
OPEN_STATES = (CaseState.DISPATCHED, CaseState.IN_PROGRESS, CaseState.PENDING_RATING)


def member_ids(case: Case) -> set[int]:
    """The room's members: the case's people (``cases.permissions.case_people_ids``)."""
    return permissions.case_people_ids(case)


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
    """Whether ``user`` may be in the room: one of the case's people
    (``cases.permissions.is_case_person``), or a superuser acting for them."""
    return permissions.is_superuser(user) or permissions.is_case_person(case, user)


def can_read(case: Case, user) -> bool:
    """Members read the room; auditors read it too (read-only), for the record."""
    return is_member(case, user) or has_role(user, Role.AUDITOR)


def room_cases(user):
    """Open cases whose room ``user`` is in, as one of the case's people (for unread counts)."""
    return Case.objects.filter(permissions.case_person_condition(user), state__in=OPEN_STATES)


def _last_read(user, case_ref):  # noqa: D103 - the person's read mark for ``case_ref``
    return Coalesce(
        Subquery(
            ReadState.objects.filter(case=case_ref, user=user).values("last_read_id")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def unread_subquery(user, case_ref: str = "pk"):
    """An expression for ``Case`` querysets: messages in the room ``user`` has not read.

    The person's own messages are never unread. ``case_ref``: the outer query's field
    holding the case's id (``"case_id"`` on a query of a case's own rows).
    """
    unread = (
        Message.objects.filter(case=OuterRef(case_ref), id__gt=_last_read(user, OuterRef("case")))
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
