"""Bearer tokens for the phone: an access token works while the login it came from does."""

from __future__ import annotations

from django.db.models import Exists
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.api.tokens import REFRESH_ID_CLAIM, SECOND_FACTOR_CLAIM, STAMP_CLAIM
from accounts.logins import stamp_matches


class LoginJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication, refusing tokens whose login has ended.

    One query, as before: the person's row, with whether the refresh token the
    access token came from (``sid``) is blacklisted. Refused: an inactive
    person, a password changed since (``pwd``), a revoked or rotated refresh
    token, and tokens without these claims (issued before they existed); and a
    token issued without a second factor (``otp``) once the person needs one
    (``second_factor_required``: log in again with the code).
    """

    def get_user(self, validated_token):
        from accounts.models import User

        sid = validated_token.get(REFRESH_ID_CLAIM)
        user = (
            User.objects.filter(pk=validated_token.get("user_id"))
            .annotate(revoked=Exists(BlacklistedToken.objects.filter(token__jti=sid or "")))
            .first()
        )
        if user is None or not user.is_active:
            raise AuthenticationFailed(_("This account is not active."), code="user_inactive")
        if not sid or user.revoked or not stamp_matches(user, validated_token.get(STAMP_CLAIM)):
            raise AuthenticationFailed(
                _("This login has ended (logged out, password changed or revoked): log in again."),
                code="token_revoked",
            )
        if not validated_token.get(SECOND_FACTOR_CLAIM):
            from accounts import twofactor

            if twofactor.required(user):
                # (a dict, as simplejwt's own: the error body carries this code)
                raise AuthenticationFailed(
                    {
                        "detail": _(
                            "Your account now needs a second factor: "
                            "log in again with your code (otp)."
                        ),
                        "code": "second_factor_required",
                    }
                )
        return user


class LoginJWTScheme(SimpleJWTScheme):
    """The same bearer scheme in the OpenAPI document as simplejwt's own class."""

    target_class = "accounts.api.authentication.LoginJWTAuthentication"
