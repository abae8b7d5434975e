"""Login, logout and who-am-I for the phone."""

from axes.utils import reset as reset_lockout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import twofactor
from accounts.api.serializers import (
    LoginSerializer,
    LogoutSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    SocketTicketSerializer,
    TokenPairSerializer,
)
from accounts.api.tokens import (
    REFRESH_ID_CLAIM,
    SECOND_FACTOR_CLAIM,
    RefreshSerializer,
    login_id,
    token_pair,
)
from accounts.lockout import locked_out
from accounts.selectors import waiting_counts
from accounts.services import issue_socket_ticket
from audit import services as audit
from audit.request import client_ip
from chat.selectors import unread_by_case
from core.api.errors import error_body
from core.api.throttles import LoginIPThrottle, LoginUsernameThrottle, WriteThrottle
from core.errors import ValidationFailed
from core.realtime import access_changed


class LoginView(TokenObtainPairView):
    """Username and password in, an access and a refresh token out."""

    serializer_class = LoginSerializer
    throttle_classes = [LoginIPThrottle, LoginUsernameThrottle]

    @extend_schema(responses={200: TokenPairSerializer})
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        except AuthenticationFailed:
            # django-axes marks the DRF request it was handed, not the Django one
            # its middleware watches: answer the lock-out here.
            if getattr(request, "axes_locked_out", False):
                return locked_out(request, {"username": request.data.get("username", "")})
            raise
        refused = _second_factor_refusal(request, serializer.user)
        if refused is not None:
            return refused
        pair = token_pair(serializer.user, second_factor=twofactor.required(serializer.user))
        update_last_login(None, serializer.user)
        # A success clears this username's failures from this address, as django-axes
        # does for session log-ins (whose handler would also open a session here).
        # A refused password is audited through Django's user_login_failed signal.
        ip = client_ip(request)
        reset_lockout(ip=ip, username=serializer.user.get_username())
        audit.record("auth.login", actor=serializer.user, ip=ip, details={"via": "token"})
        return Response(pair, status=status.HTTP_200_OK)


def _second_factor_refusal(request, user):
    """None when no second factor is needed or the one given (``otp``) is right."""
    if not twofactor.required(user):
        return None
    if not twofactor.enrolled(user):
        message = _("Your role requires a second factor: set it up in the back office first.")
        return Response(error_body("second_factor_setup_required", message), status=403)
    code = request.data.get("otp") if hasattr(request.data, "get") else None
    device = twofactor.check(user, str(code or ""))
    audit.record(
        "auth.second_factor", actor=user, ip=client_ip(request), success=device is not None
    )
    if device is None:
        message = _("Give the code of your authenticator (otp) with your password.")
        body = error_body("second_factor_required", message, {"otp": [_("Missing or not right.")]})
        return Response(body, status=401)
    return None


class RefreshView(TokenRefreshView):
    """A refresh token in, a new pair out. The old refresh token, and the access tokens
    it minted, stop working; of concurrent refreshes with one token, one succeeds."""

    serializer_class = RefreshSerializer
    throttle_classes = [LoginIPThrottle]

    @extend_schema(responses={200: TokenPairSerializer})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutView(APIView):
    """The refresh token stops working."""

    allow_expired = True

    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
            if str(token.get("user_id")) != str(request.user.pk):
                raise TokenError("not yours")
            token.blacklist()
            audit.record(
                "auth.logout", actor=request.user, ip=client_ip(request), details={"via": "token"}
            )
            # The sockets opened from this login (this phone) close; other phones' stay.
            access_changed(request.user.pk, login=login_id(token.get("jti")))
        except TokenError:
            raise ValidationFailed(
                _("This refresh token is not valid."), fields={"refresh": [_("Not valid.")]}
            ) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who I am, my roles with their scope, and what waits for me."""

    allow_expired = True

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        context = {"waiting": waiting_counts(user), "unread_rooms": unread_by_case(user)}
        serializer = MeSerializer(user, context=context)
        return Response(serializer.data)


class SocketTicketView(APIView):
    """A single-use ticket for opening a WebSocket (``/ws/…?ticket=``), valid for seconds."""

    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={201: SocketTicketSerializer})
    def post(self, request):
        # Bound to this login: the phone's refresh token, or the browser's session.
        if request.auth is not None:
            ticket, seconds = issue_socket_ticket(
                user=request.user, sid=request.auth.get(REFRESH_ID_CLAIM)
            )
        else:
            ticket, seconds = issue_socket_ticket(
                user=request.user, session_key=request.session.session_key
            )
        return Response({"ticket": ticket, "expires_in": seconds}, status=status.HTTP_201_CREATED)


class PasswordChangeView(APIView):
    """Change my password. Every other session and refresh token of mine stops working;
    the answer is a fresh token pair for this phone."""

    allow_expired = True
    throttle_classes = [LoginUsernameThrottle, WriteThrottle]

    @extend_schema(request=PasswordChangeSerializer, responses={200: TokenPairSerializer})
    def post(self, request):
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        if not user.check_password(data.validated_data["old_password"]):
            audit.record("auth.password_change", actor=user, ip=client_ip(request), success=False)
            raise ValidationFailed(
                _("The current password is not right."),
                fields={"old_password": [_("Not right.")]},
            )
        new = data.validated_data["new_password"]
        try:
            validate_password(new, user)
        except DjangoValidationError as exc:
            raise ValidationFailed(
                _("The new password is too weak."), fields={"new_password": list(exc.messages)}
            ) from None
        if user.check_password(new):
            raise ValidationFailed(
                _("The new password must differ from the current one."),
                fields={"new_password": [_("Same as the current password.")]},
            )
        with transaction.atomic():
            user.set_password(new)
            # Every refresh token and socket of the person ends (accounts.receivers).
            user.save(update_fields=["password", "password_changed_at"])
            audit.record("auth.password_change", actor=user, ip=client_ip(request))
        if request.auth is None:  # a browser session: keep this one, end the others
            update_session_auth_hash(request._request, user)
            second_factor = twofactor.session_verified(request.session)
        else:
            second_factor = bool(request.auth.get(SECOND_FACTOR_CLAIM))
        return Response(token_pair(user, second_factor=second_factor))
