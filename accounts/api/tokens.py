"""The phone's token pair and what each token is bound to.

A refresh token carries, besides the person:
- ``pwd``: the stamp of the password it was issued under (``accounts.logins``);
  any change of password, on any path, leaves it behind;
- ``otp``: true when the login gave a second factor. A refresh is refused
  when the person now needs one and the token does not say it was given.

An access token carries the same, and ``sid``: the id (jti) of the refresh
token it was minted with. It works only while that refresh token is not
blacklisted, so logging out, a lock-out, deactivation or a new password end
the access tokens at once, not after their 15 minutes. A rotation blacklists
the old refresh token and with it the access tokens it minted; the answer
carries their replacement.

A refresh is one conditional insert of the old token into the blacklist:
of several concurrent refreshes of one token exactly one succeeds.

A login keeps its id across rotations: the first ``LOGIN_ID_LENGTH``
characters of every refresh token's jti are those of the login's first one
(``login_id``), so a socket opened from any of them can ask whether its login
is still alive (``login_alive``). The outstanding-token table keeps only a
token's header and claims, never its signature: a row read from the admin or
the database is no login.
"""

from __future__ import annotations

from typing import cast
from uuid import uuid4

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.logins import credential_stamp, stamp_matches
from core.errors import DomainError

STAMP_CLAIM = "pwd"
SECOND_FACTOR_CLAIM = "otp"
REFRESH_ID_CLAIM = "sid"
#: Characters of a refresh token's jti that name its login (kept across rotations).
LOGIN_ID_LENGTH = 16


def login_id(jti: str | None) -> str:
    """The login a refresh token's jti belongs to (``""`` for none)."""
    return (jti or "")[:LOGIN_ID_LENGTH] if len(jti or "") >= LOGIN_ID_LENGTH else ""


def login_alive(user_id: int, login: str) -> bool:
    """Some refresh token of this login is still outstanding: unexpired and not blacklisted.

    A rotation blacklists the old token and outstands its successor in one
    transaction, so a login being rotated is never seen as ended.
    """
    if len(login) != LOGIN_ID_LENGTH:
        return False
    return OutstandingToken.objects.filter(
        user_id=user_id,
        jti__startswith=login,
        expires_at__gt=timezone.now(),
        blacklistedtoken__isnull=True,
    ).exists()


def _unsigned(token: str) -> str:
    """The token without its signature: what the outstanding row keeps."""
    return token.rsplit(".", 1)[0]


class LoginAccessToken(AccessToken):
    """An access token naming the refresh token it came from (``sid``)."""


class LoginRefreshToken(RefreshToken):
    """A refresh token bound to the password and saying whether a second factor was given."""

    access_token_class = LoginAccessToken

    @classmethod
    def for_login(cls, user, *, second_factor: bool) -> LoginRefreshToken:
        """A new, outstanding refresh token for ``user`` after a successful login."""
        token = cast(LoginRefreshToken, cls.for_user(user))
        token[STAMP_CLAIM] = credential_stamp(user)
        token[SECOND_FACTOR_CLAIM] = bool(second_factor)
        # The outstanding row keeps the token's claims as issued, not its signature.
        OutstandingToken.objects.filter(jti=token["jti"]).update(token=_unsigned(str(token)))
        return token

    def set_jti(self) -> None:
        """A new jti; a rotated token keeps its login's id as the jti's start."""
        fresh = uuid4().hex
        login = login_id(self.payload.get("jti"))
        self.payload["jti"] = login + fresh[len(login) :] if login else fresh

    def outstand(self):
        """As simplejwt's, keeping the claims only (``_unsigned``)."""
        row = super().outstand()
        OutstandingToken.objects.filter(jti=self["jti"]).update(token=_unsigned(str(self)))
        return row

    @property
    def access_token(self) -> LoginAccessToken:
        access = super().access_token
        access[REFRESH_ID_CLAIM] = self["jti"]
        return access  # type: ignore[return-value]


def token_pair(user, *, second_factor: bool) -> dict[str, str]:
    """``{"access", "refresh"}`` for a person who just proved who they are."""
    refresh = LoginRefreshToken.for_login(user, second_factor=second_factor)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


class LoginEnded(DomainError):
    """The login a token stood for is over (spent, revoked, or no longer enough): log in again."""

    code = "login_ended"
    http_status = 401


class RefreshSerializer(serializers.Serializer):
    """A refresh token in, a new pair out; the old refresh token is spent exactly once."""

    refresh = serializers.CharField()
    access = serializers.CharField(read_only=True)

    def validate(self, attrs):
        from accounts import twofactor
        from accounts.models import User

        refresh = LoginRefreshToken(attrs["refresh"])  # signature, expiry, blacklist
        user = User.objects.filter(pk=refresh.get("user_id")).first()
        if user is None or not user.is_active:
            raise LoginEnded(_("This account is not active."), code="account_inactive")
        if STAMP_CLAIM not in refresh.payload:  # issued before tokens were bound
            raise LoginEnded(
                _("This login has ended (logged out, password changed or revoked): log in again.")
            )
        if not stamp_matches(user, refresh.get(STAMP_CLAIM)):
            raise LoginEnded(
                _("The password has changed since this login: log in again."),
                code="password_changed",
            )
        if twofactor.required(user) and not refresh.get(SECOND_FACTOR_CLAIM):
            raise LoginEnded(
                _("Your account now needs a second factor: log in again with your code (otp)."),
                code="second_factor_required",
            )
        with transaction.atomic():
            _spend(refresh)
            refresh.set_jti()
            refresh.set_exp()
            refresh.set_iat()
            refresh.outstand()
        return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _spend(refresh: LoginRefreshToken) -> None:
    """Blacklist the presented token; a second, concurrent spender hits the unique key.

    ``BlacklistedToken.token`` is one-to-one, so the database lets one insert
    through and refuses the others (on PostgreSQL a racing insert waits for the
    first to commit, then fails).
    """
    outstanding = OutstandingToken.objects.filter(jti=refresh["jti"]).first()
    spent = LoginEnded(
        _("This refresh token was already used or revoked: log in again."), code="token_spent"
    )
    if outstanding is None:  # every refresh token this server issues is outstanding
        raise spent
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        raise spent from None
