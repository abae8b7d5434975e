"""Masking personal data for people who may not see it whole."""

from __future__ import annotations


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
