"""Masking personal data for people who may not see it whole, and who may."""

from __future__ import annotations

#: Held by the directory's keepers (the system administrator's role) and by superusers.
WHOLE_PHONE_PERMISSION = "departments.view_staff_phone"


def may_see_whole_phones(user, case=None) -> bool:
    """Whether ``user`` reads phone numbers whole (else ``138****1234``), in the admin and
    the API alike.

    Without ``case``: only holders of ``departments.view_staff_phone`` (the system
    administrator's role; superusers hold every permission), for every number.
    With ``case``: also the case's people (``cases.permissions.is_case_person``: caller,
    commanders over it, people whose invitation is accepted now) for the numbers shown
    on that case. Whoever reads whole is audited by the caller of this function
    (``audit.services.audit_personal_data``).
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    if case is not None:
        from cases.permissions import is_case_person

        if is_case_person(case, user):  # asked first: no permission queries for them
            return True
    return user.has_perm(WHOLE_PHONE_PERMISSION)


def mask_phone(phone: str) -> str:
    """``13812341234`` → ``138****1234``: keep the first three and last four digits.

    Shorter numbers (landlines) keep only their last four digits, and numbers
    of four digits or fewer are masked whole. Separators are dropped.
    """
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if not digits:
        return ""
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def is_masked(value) -> bool:
    """Whether ``value`` is a masked number (``138****1234``), not a real one."""
    return isinstance(value, str) and ("*" in value or "＊" in value)
