"""Who may move a case: the ``permission`` callables of its transitions.

Each takes ``(case, user)`` as django-fsm calls them. Superusers may do
everything (the back office acts for anyone and the timeline records who).
"""

from __future__ import annotations

from accounts.choices import Role
from accounts.selectors import covers_area, has_role


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


def is_participant(case, user) -> bool:
    """Caller, a commander over the case, or a person invited who has not declined.

    These are the people who work the case together and may call each other,
    so they see each other's phone numbers unmasked.
    """
    from cases.choices import InvitationState

    if is_caller(case, user) or is_commander_of(case, user):
        return True
    if not (user and user.is_authenticated):
        return False
    return any(
        i.person_id == user.pk and i.state != InvitationState.DECLINED
        for i in case.invitations.all()
    )


def can_read_ratings(case, user) -> bool:
    """The scores given on one case: its caller, auditors and superusers only.

    Department people see ratings only as aggregates (ratings app); a per-case
    rating shown to them would be traceable to the one caller who gave it.
    """
    return is_superuser(user) or is_caller(case, user) or has_role(user, Role.AUDITOR)


def sees_phones_unmasked(user) -> bool:
    """Administrators who keep the directory see every phone number."""
    return is_superuser(user) or has_role(user, [Role.SYSADMIN, Role.SECADMIN])


def can_supervise(case, user) -> bool:
    """Leaders and grid leaders over the case's community issue supervision orders (督办)."""
    return is_superuser(user) or covers_area(user, [Role.LEADER, Role.GRID_LEADER], case.community)


def is_handler(case, user) -> bool:
    """A person whose invitation to the case is accepted: they handle it."""
    from cases.choices import InvitationState

    if not (user and user.is_authenticated):
        return False
    return case.invitations.filter(person=user, state=InvitationState.ACCEPTED).exists()


def holds_open_invitation(case, user) -> bool:
    """Invited and not yet out of it (pending or accepted): may return the case (退回)."""
    from cases.choices import InvitationState

    if not (user and user.is_authenticated):
        return False
    return case.invitations.filter(
        person=user, state__in=[InvitationState.PENDING, InvitationState.ACCEPTED]
    ).exists()
