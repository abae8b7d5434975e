"""Who may move a case: the ``permission`` callables of its transitions.

Each takes ``(case, user)`` as django-fsm calls them. Superusers may do
everything (the back office acts for anyone and the timeline records who).
"""

from __future__ import annotations

from django.db.models import Q

from accounts.choices import Role
from accounts.selectors import area_paths, commander_ids_over, covers_area, has_role


def is_superuser(user) -> bool:
    return bool(user and user.is_active and user.is_superuser)


def is_caller(case, user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and case.caller_id == user.pk)


def is_commander_of(case, user) -> bool:
    """The commander of a workstation over the case's community (or above it)."""
    return covers_area(user, [Role.COMMANDER], case.community)


def can_raise_in(user, community) -> bool:
    return is_superuser(user) or covers_area(
        user, [Role.VILLAGE_OFFICIAL, Role.COMMANDER], community
    )


def can_submit(case, user) -> bool:
    """The caller, or a commander who raised or edits it on their behalf."""
    return is_superuser(user) or is_caller(case, user) or is_commander_of(case, user)


def can_review(case, user) -> bool:
    return is_superuser(user) or is_commander_of(case, user)


def can_steer(case, user) -> bool:
    """Caller or commander: cancel, complete, reopen, invite."""
    return is_superuser(user) or is_caller(case, user) or is_commander_of(case, user)


def can_rate(case, user) -> bool:
    return is_superuser(user) or is_caller(case, user)


def system_only(case, user) -> bool:
    """Transitions the services fire themselves (first acceptance, closing)."""
    return True


# ------------------------------------------------------------- the case's people
# One definition, used by the room (chat.selectors), the phone rule
# (core.masking.may_see_whole_phones) and the case's ``participants`` (API).


def held_invitations(case) -> list | None:
    """The case's invitations when the caller already holds them (prefetched, or put there
    by the answer of a write: ``cases.api.views``), else ``None`` (ask the database)."""
    cache = getattr(case, "_prefetched_objects_cache", {})
    return list(cache["invitations"]) if "invitations" in cache else None


def _accepted_person_ids(case) -> set[int]:
    """People whose invitation to ``case`` is accepted now (prefetched invitations are used)."""
    from cases.choices import InvitationState

    if "invitations" in getattr(case, "_prefetched_objects_cache", {}):
        return {i.person_id for i in case.invitations.all() if i.state == InvitationState.ACCEPTED}
    accepted = case.invitations.filter(state=InvitationState.ACCEPTED)
    return set(accepted.values_list("person_id", flat=True))


def case_people_ids(case) -> set[int]:
    """The case's people: its caller, the commanders over its community, and everyone
    whose invitation is accepted now.

    Those invited but not (yet, or any more) working it are not: a pending
    invitation has not been taken up, and a declined, withdrawn or returned one
    has ended. These people share the case's room and see each other's phone
    numbers whole. Inactive commanders are left out; the caller stays.
    """
    return {case.caller_id} | commander_ids_over(case.community) | _accepted_person_ids(case)


def is_case_person(case, user) -> bool:
    """Whether ``user`` (active) is one of ``case_people_ids(case)``, without listing them."""
    from cases.choices import InvitationState

    if not (user and user.is_authenticated and user.is_active):
        return False
    if is_caller(case, user) or is_commander_of(case, user):
        return True
    if "invitations" in getattr(case, "_prefetched_objects_cache", {}):
        return user.pk in _accepted_person_ids(case)
    return case.invitations.filter(person=user, state=InvitationState.ACCEPTED).exists()


def case_person_condition(user) -> Q:
    """``is_case_person`` as a filter on ``Case`` querysets: the cases ``user`` is one of the
    people of (for many cases at once, e.g. the rooms with unread messages)."""
    from cases.choices import InvitationState
    from cases.models import Invitation

    if not (user and user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    accepted = Invitation.objects.filter(person=user, state=InvitationState.ACCEPTED)
    condition = Q(caller=user) | Q(pk__in=accepted.values("case_id"))
    for path in area_paths(user, [Role.COMMANDER]):
        condition |= Q(community__path__startswith=path)
    return condition


def is_participant(case, user) -> bool:
    """The older name of ``is_case_person``."""
    return is_case_person(case, user)


def can_read_ratings(case, user) -> bool:
    """The scores given on one case: its caller, auditors and superusers only.

    Department people see ratings only as aggregates (ratings app); a per-case
    rating shown to them would be traceable to the one caller who gave it.
    """
    return is_superuser(user) or is_caller(case, user) or has_role(user, Role.AUDITOR)


def sees_phones_unmasked(user) -> bool:
    """The directory rule of ``core.masking.may_see_whole_phones`` (no case)."""
    from core.masking import may_see_whole_phones

    return may_see_whole_phones(user)


def can_supervise(case, user) -> bool:
    """Leaders and grid leaders over the case's community issue supervision orders (督办)."""
    return is_superuser(user) or covers_area(user, [Role.LEADER, Role.GRID_LEADER], case.community)


def is_handler(case, user) -> bool:
    """A person whose invitation to the case is accepted: they handle it."""
    from cases.choices import InvitationState

    if not (user and user.is_authenticated):
        return False
    held = held_invitations(case)
    if held is not None:
        return any(i.person_id == user.pk and i.state == InvitationState.ACCEPTED for i in held)
    return case.invitations.filter(person=user, state=InvitationState.ACCEPTED).exists()


def holds_open_invitation(case, user) -> bool:
    """Invited and not yet out of it (pending or accepted): may return the case (退回)."""
    from cases.choices import InvitationState

    if not (user and user.is_authenticated):
        return False
    open_states = (InvitationState.PENDING, InvitationState.ACCEPTED)
    held = held_invitations(case)
    if held is not None:
        return any(i.person_id == user.pk and i.state in open_states for i in held)
    return case.invitations.filter(person=user, state__in=open_states).exists()
