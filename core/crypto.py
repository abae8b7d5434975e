"""Personal data encrypted at rest, and found again by exact value through a keyed digest.

Field values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a
key derived from ``JINSHAO_FIELD_KEY`` alone (never from ``SECRET_KEY`` or the
audit key; ``config.keys`` refuses to start without it). The same value
encrypts differently every time, so a column can't be searched; a separate
HMAC digest of the normalised value serves exact-match lookups.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


def _key_material() -> bytes:
    return hashlib.sha256(b"jinshao-field-key:" + settings.JINSHAO_FIELD_KEY.encode()).digest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key_material()))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The plain value; a value stored before encryption existed is returned as it is."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return token


def digest(value: str) -> str:
    """Keyed digest of a phone number's digits (exact-match search without the number)."""
    normalised = "".join(ch for ch in value if ch.isdigit()) or value.strip()
    key = hashlib.sha256(b"jinshao-digest:" + _key_material()).digest()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest() if normalised else ""


def secret_digest(value: str) -> str:
    """Keyed digest of a secret as given (to find its owner without decrypting every row)."""
    if not value:
        return ""
    key = hashlib.sha256(b"jinshao-secret-digest:" + _key_material()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


class EncryptedCharField(models.TextField):
    """A short text stored encrypted; ``max_length`` still bounds what may be entered."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"widget": forms.TextInput, **kwargs})
