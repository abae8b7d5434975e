"""Login, logout and who-am-I for the phone."""

from axes.utils import reset as reset_lockout
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django_otp import login as otp_login
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
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
    #: How the audit log names this way in (``details.via``).
    via = "token"

    @extend_schema(responses={200: TokenPairSerializer})
    def post(self, request, *args, **kwargs):
        user, device, refused = self.check_credentials(request)
        if refused is not None:
            return refused
        return self.logged_in(request, user, device)

    def check_credentials(self, request):
        """The one log-in path, for tokens and sessions alike: the password (with
        django-axes' lock-out and the throttles), then any second factor.

        Returns ``(user, device, None)``, ``device`` the second factor's device or
        None when none was needed; or ``(None, None, response)``, the refusal to
        answer: 401 wrong password (``authentication_failed``) or second factor
        missing or wrong (``second_factor_required``), 403 locked out
        (``locked_out``) or second factor not set up
        (``second_factor_setup_required``). Throttling raises 429 before this.
        """
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        except AuthenticationFailed:
            # django-axes marks the DRF request it was handed, not the Django one
            # its middleware watches: answer the lock-out here.
            if getattr(request, "axes_locked_out", False):
                return (
                    None,
                    None,
                    locked_out(request, {"username": request.data.get("username", "")}),
                )
            raise
        device, refused = _second_factor(request, serializer.user)
        if refused is not None:
            return None, None, refused
        return serializer.user, device, None

    def logged_in(self, request, user, device) -> Response:
        """The answer to a log-in that passed: a token pair."""
        pair = token_pair(user, second_factor=device is not None)
        self.record_login(request, user)
        return Response(pair, status=status.HTTP_200_OK)

    def record_login(self, request, user) -> None:
        update_last_login(type(user), user)
        # A success clears this username's failures from this address, as django-axes
        # does for session log-ins (whose handler would also open a session here).
        # A refused password is audited through Django's user_login_failed signal.
        ip = client_ip(request)
        reset_lockout(ip=ip, username=user.get_username())
        audit.record("auth.login", actor=user, ip=ip, details={"via": self.via})


def _second_factor(request, user):
    """``(device, refusal)``: ``(None, None)`` when no second factor is needed,
    ``(device, None)`` when the one given (``otp``) is right, else ``(None, response)``."""
    if not twofactor.required(user):
        return None, None
    if not twofactor.enrolled(user):
        message = _("Your role requires a second factor: set it up in the back office first.")
        return None, Response(error_body("second_factor_setup_required", message), status=403)
    code = request.data.get("otp") if hasattr(request.data, "get") else None
    device = twofactor.check(user, str(code or ""))
    audit.record(
        "auth.second_factor", actor=user, ip=client_ip(request), success=device is not None
    )
    if device is None:
        message = _("Give the code of your authenticator (otp) with your password.")
        body = error_body("second_factor_required", message, {"otp": [_("Missing or not right.")]})
        return None, Response(body, status=401)
    return device, None


class SessionLoginView(LoginView):
    """The phone app in the browser (same origin): log in to a session cookie.

    ``GET`` sets the CSRF cookie (``csrftoken``) and answers 204: the app reads
    it before its first ``POST``. ``POST`` takes what ``auth/token/`` takes
    (username, password, otp) through the same checks and refusals (see
    ``LoginView.check_credentials``) and answers ``me/``'s shape; the session
    cookie is http-only, no token reaches the page. An expired password still
    logs in: ``password_expired`` is true and only ``auth/password/`` answers.
    ``DELETE`` logs out: the session ends and so do its sockets.
    """

    via = "session"
    # Anyone may log in; logging out needs a session (checked in ``delete``).
    permission_classes = ()

    def get_authenticators(self):
        # Session authentication only: a bearer token never logs a session out.
        return [SessionAuthentication()]

    def get_throttles(self):
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(request=None, responses={204: None})
    @method_decorator(ensure_csrf_cookie)
    def get(self, request):
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=LoginSerializer, responses={200: MeSerializer})
    def post(self, request, *args, **kwargs):
        # CSRF even before anyone is logged in: a login form another site posts
        # would log the victim's browser in as the attacker.
        SessionAuthentication().enforce_csrf(request)
        return super().post(request, *args, **kwargs)

    def logged_in(self, request, user, device) -> Response:
        django_request = request._request
        login(django_request, user, backend="django.contrib.auth.backends.ModelBackend")
        if device is not None:
            otp_login(django_request, device)
        self.record_login(request, user)
        return Response(me_data(user))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        user = request.user
        audit.record("auth.logout", actor=user, ip=client_ip(request), details={"via": "session"})
        # Django's user_logged_out closes this session's sockets (accounts.receivers).
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        return Response(me_data(request.user))


def me_data(user) -> dict:
    """``me/``'s answer for ``user`` (``MeSerializer``)."""
    context = {"waiting": waiting_counts(user), "unread_rooms": unread_by_case(user)}
    return MeSerializer(user, context=context).data


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
    the answer is a fresh token pair for this phone, or, from a browser session (the
    phone app, ``auth/session/``), ``me/``'s answer: that session goes on."""

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
        if request.auth is None:
            # A browser session: keep this one, end the others. No token for the page's
            # scripts: the session goes on, and the answer is ``me/``'s.
            update_session_auth_hash(request._request, user)
            return Response(me_data(user))
        second_factor = bool(request.auth.get(SECOND_FACTOR_CLAIM))
        return Response(token_pair(user, second_factor=second_factor))
