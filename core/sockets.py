"""What every WebSocket of the app shares: who is connecting, JSON frames, limits, errors.

Frames are JSON objects with a ``type``. A bad frame never crashes the worker:
- a frame that is not JSON, or has no ``type``, gets an ``error`` frame;
- so does a frame holding text the database cannot store (a NUL or an unpaired
  surrogate, ``core.text``): ``invalid_characters``, the field's path in ``fields``;
- so does an unknown type, a binary frame, or too many frames in a burst;
- a frame over the size limit gets an error and the socket is closed (1009);
- a socket that keeps flooding after ``JINSHAO_CHAT_RATE_STRIKES`` refusals is
  closed (4429).

A socket lives only as long as its person's right to it. Every socket joins
its person's access group (``core.realtime.access_group``); when the account
or a role changes, or the person logs out, each re-checks from the database
and closes if the right is gone (4401: inactive, password changed, logged out,
locked out; 4403: password expired, or out of the room). Every inbound frame is
checked the same way first. A pushed frame is forwarded only if the right was
re-checked from the database less than ``JINSHAO_SOCKET_RECHECK_SECONDS``
before (the first pushed frame always re-checks), so a socket that missed the
news stops reading within that bound and writes nothing.

A socket opened with a ticket keeps what the ticket was bound to: the
password stamp and issue time, and the phone's login (its refresh tokens) or
the browser session it was fetched from (``accounts.services.spend_socket_ticket``).

Errors raised by the services (``core.errors``) become ``error`` frames with
the same codes and messages as the HTTP API, in the language of the
handshake's ``Accept-Language`` (Chinese by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

from channels.auth import get_user
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.middleware import BaseMiddleware
from channels.utils import await_many_dispatch
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.http.request import validate_host
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import metrics
from core.errors import DomainError
from core.realtime import access_group
from core.text import RefusedCharacters, find_refused_characters, has_refused_characters

logger = logging.getLogger(__name__)

#: Close codes (4000–4999 are the application's): they say why.
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_FLOOD = 4429
CLOSE_TOO_BIG = 1009
#: A worker shutting down (SIGTERM, rolling restart) closes every socket with 1012 "service
#: restart" (RFC 6455 registry): uvicorn sends it itself and hands the consumer
#: ``websocket.disconnect``. The phone reconnects to another worker (new ticket) and sends
#: ``resume`` with the last message id it holds; messages are saved before they are broadcast.
CLOSE_SERVER_RESTART = 1012

#: Seconds between attempts to reach a channel layer that went away (doubling).
LAYER_RETRY_FIRST = 0.5
LAYER_RETRY_MAX = 5.0


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _origin_allowed(scope) -> bool:
    """Cookie logins only from our own pages (a socket has no CSRF token)."""
    origin = _header(scope, b"origin")
    if not origin:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    host = urlsplit(origin).hostname or ""
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(host) and validate_host(host, allowed)


def _second_factor_given(user, session) -> bool:
    from accounts import twofactor

    return not twofactor.required(user) or twofactor.session_verified(session)


def _login_of(user, session_key: str | None) -> dict:
    """What a cookie socket's right hangs on, as it was when it opened (``scope["login"]``).

    A ticket socket's comes from its ticket (``spend_socket_ticket``): ``session``
    is the browser session it was fetched from, ``login`` the phone's login
    (``accounts.api.tokens.login_id``), either or both None.
    """
    from accounts.logins import credential_stamp

    return {
        "session": session_key,
        "login": None,
        "stamp": credential_stamp(user),
        "since": timezone.now(),
    }


def _password_expired() -> str:
    return _("Your password has expired: change it first (POST auth/password/).")


def _locked_out() -> str:
    return _("This account was locked out after failed log-ins: log in again later.")


class SocketAuthMiddleware(BaseMiddleware):
    """``scope["user"]``: from a single-use ``?ticket=`` (phones) or the session cookie (browser)."""

    async def __call__(self, scope, receive, send):
        from accounts.services import spend_socket_ticket

        scope = dict(scope)
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        ticket = (params.get("ticket") or [""])[0]
        session_key = None
        login = None
        if ticket:
            spent = await database_sync_to_async(spend_socket_ticket)(ticket)
            user, login = spent if spent is not None else (None, None)
        elif "session" in scope and _origin_allowed(scope):
            user = await get_user(scope)
            session_key = scope["session"].session_key
            if user.is_authenticated and not await database_sync_to_async(_second_factor_given)(
                user, scope["session"]
            ):
                user = None  # half logged in: the second factor is still owed
        else:
            user = None
        scope["user"] = user or AnonymousUser()
        if user is not None and user.is_authenticated:
            scope["login"] = login or _login_of(user, session_key)
        return await super().__call__(scope, receive, send)


class JsonSocket(AsyncWebsocketConsumer):
    """A consumer speaking JSON frames ``{"type": …}``, dispatched to ``handlers``.

    It outlives its channel layer. If Redis goes away, the socket stays open
    and is told so (``live_unavailable``): what the person sends is still
    saved, and the services report it as not delivered live. The socket keeps
    retrying. When Redis is back it rejoins its groups and says so
    (``live_restored``), and the phone resumes from its last message id.
    """

    #: frame type → name of the ``async def handler(self, frame)`` method
    handlers: dict[str, str] = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tokens = float(settings.JINSHAO_CHAT_RATE)
        self.refilled_at = time.monotonic()
        self.strikes = 0
        self.layer_groups: list[str] = []
        self.layer_down = False
        self.layer_down_told = False
        self.accepted = False
        self.counted_open = False
        self.ended = False  # closed for lost access: nothing more is taken or sent
        self.checked_at: float | None = None  # time.monotonic() of the last passed re-check

    async def accept(self, subprotocol=None, headers=None) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True
        if not self.counted_open:
            self.counted_open = True
            metrics.socket_opened(self)

    async def websocket_disconnect(self, message) -> None:
        if self.counted_open:  # the open-sockets gauge (core.metrics)
            self.counted_open = False
            metrics.socket_closed(self)
        await super().websocket_disconnect(message)

    async def __call__(self, scope, receive, send):
        """As Channels' ``AsyncConsumer.__call__``, with a channel receive that survives outages."""
        from core import requestid  # one id per connection, in every log line it causes

        requestid.set_current(requestid.clean(_header(scope, requestid.HEADER.lower().encode())))
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        try:
            if self.channel_layer is None:
                await await_many_dispatch([receive], self.dispatch)
                return
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = self._layer_receive
            await await_many_dispatch([receive, self._layer_receive], self.dispatch)
        except StopConsumer:
            pass

    async def dispatch(self, message) -> None:
        """As Channels' dispatch, without its ``aclose_old_connections`` hop per message.

        Channels hops to the database thread before every handler to close
        stale connections. Every database access here already goes through
        ``database_sync_to_async``, which does the same on its own. The extra
        hop, on each of N sockets for every message, queued the sender's
        database work behind N thread switches: at N = 50 it halved the room's
        throughput (docs/benchmarks.md).
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # -------------------------------------------------------------- the layer

    async def join_group(self, group: str) -> None:
        """Join ``group`` now if the layer answers, and again whenever it comes back."""
        self.layer_groups.append(group)
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception:
            logger.warning("Channel layer unavailable joining %s", group, exc_info=True)
            await self._lost_layer()

    async def _lost_layer(self) -> None:
        self.layer_down = True
        if self.accepted and not self.layer_down_told:
            self.layer_down_told = True
            with translation.override(self.language):
                await self.send_error(
                    "live_unavailable",
                    _("Live delivery is interrupted; what you send is still saved."),
                )

    async def leave_groups(self) -> None:
        for group in self.layer_groups:
            with contextlib.suppress(Exception):  # layer down: the entry expires on its own
                await self.channel_layer.group_discard(group, self.channel_name)
        self.layer_groups = []

    async def _layer_receive(self):
        delay = LAYER_RETRY_FIRST
        while True:
            if self.layer_down and self.layer_groups:
                try:
                    for group in self.layer_groups:
                        await self.channel_layer.group_add(group, self.channel_name)
                except Exception:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, LAYER_RETRY_MAX)
                    continue
                self.layer_down = self.layer_down_told = False
                with translation.override(self.language):  # (only joined sockets have groups)
                    await self.send_json(
                        {
                            "type": "live_restored",
                            "message": _("Live again: ask for what you missed."),
                        }
                    )
            try:
                return await self.channel_layer.receive(self.channel_name)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Channel layer receive failed", exc_info=True)
                await self._lost_layer()
                await asyncio.sleep(delay)
                delay = min(delay * 2, LAYER_RETRY_MAX)

    # -------------------------------------------------------------- helpers

    @property
    def language(self) -> str:
        accept = _header(self.scope, b"accept-language")
        for code in (part.split(";")[0].strip() for part in accept.split(",")):
            if not code:
                continue
            try:
                return translation.get_supported_language_variant(code)
            except LookupError:
                continue
        return settings.LANGUAGE_CODE

    async def send_json(self, data: dict) -> None:
        await self.send(text_data=json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder))

    async def send_error(self, code: str, message: str, **extra) -> None:
        await self.send_json({"type": "error", "code": code, "message": str(message), **extra})

    async def refuse(self, close_code: int, code: str, message: str) -> None:
        """Accept only to say why, then close: a refused handshake could not carry a reason."""
        await self.accept()
        await self.send_error(code, message)
        await self.close(code=close_code)

    async def refused_anonymous(self) -> bool:
        """Refuse a socket nobody logged in to (4401), or whose password expired (4403);
        True if it was refused."""
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            if not user.password_expired:
                return False
            with translation.override(self.language):
                await self.refuse(CLOSE_FORBIDDEN, "password_expired", _password_expired())
            return True
        with translation.override(self.language):
            await self.refuse(
                CLOSE_NOT_AUTHENTICATED,
                "not_authenticated",
                _("Log in first (a socket ticket or the session)."),
            )
        return True

    # -------------------------------------------------------------- the right to stay

    async def join_person(self) -> None:
        """Hear of changes to the person's access (``core.realtime.access_changed``)."""
        await self.join_group(access_group(self.scope["user"].pk))

    def access_refusal(self, user) -> tuple[int, str, str] | None:
        """Why the socket may no longer stay, from the database: ``(close code, error code,
        message)``, or None. ``user`` is the person's row as read just now (None: gone or
        inactive). Consumers add their own conditions (a room: membership).

        The account must still be active, with the password the socket opened
        under, not expired, not locked out since; a browser socket's session must
        still exist, a phone's login (some refresh token of it) still be alive.
        """
        from accounts.api.tokens import login_alive
        from accounts.logins import locked_out_since, session_alive, stamp_matches

        login = self.scope.get("login") or {}
        if user is None:
            return CLOSE_NOT_AUTHENTICATED, "account_inactive", _("This account is not active.")
        if not stamp_matches(user, login.get("stamp")):
            return (
                CLOSE_NOT_AUTHENTICATED,
                "password_changed",
                _("The password has changed: log in again."),
            )
        if user.password_expired:
            return CLOSE_FORBIDDEN, "password_expired", _password_expired()
        if login.get("session") is not None and not session_alive(login["session"], user):
            return CLOSE_NOT_AUTHENTICATED, "logged_out", _("You have logged out.")
        if login.get("login") is not None and not login_alive(user.pk, login["login"]):
            return CLOSE_NOT_AUTHENTICATED, "logged_out", _("You have logged out.")
        if locked_out_since(user.get_username(), login.get("since") or timezone.now()):
            return CLOSE_NOT_AUTHENTICATED, "locked_out", _locked_out()
        return None

    def _recheck(self) -> tuple[int, str, str] | None:
        from accounts.models import User

        user = User.objects.filter(pk=self.scope["user"].pk, is_active=True).first()
        refusal = self.access_refusal(user)
        if refusal is None:
            # The handlers and the services they call see the person as they are now
            # (roles included: they are cached per user object).
            self.scope["user"] = user
        return refusal

    async def still_allowed(self) -> bool:
        """Re-check the right to stay; if it is gone, say why and close. True if it stays."""
        with translation.override(self.language):
            refusal = await database_sync_to_async(self._recheck)()
            if refusal is None:
                self.checked_at = time.monotonic()
                return True
            await self.end(*refusal)
        return False

    async def may_forward(self) -> bool:
        """Before forwarding a pushed frame: the right, re-checked if the last check is
        older than ``JINSHAO_SOCKET_RECHECK_SECONDS`` (or there was none). True: forward.

        The bound keeps a busy room from costing one query per socket per message;
        within it, a socket whose person lost access without any event (a change
        made behind the services' back) may still receive for that long.
        """
        if self.ended:
            return False
        last = self.checked_at
        if last is not None and time.monotonic() - last < settings.JINSHAO_SOCKET_RECHECK_SECONDS:
            return True
        return await self.still_allowed()

    async def end(self, close_code: int, code: str, message: str) -> None:
        await self.send_error(code, message)
        await self.close(code=close_code)
        self.ended = True

    async def access_changed(self, event: dict) -> None:
        """The person's access changed somewhere: end at once, or re-check."""
        from accounts.logins import session_digest

        if self.ended:
            return
        login = self.scope.get("login") or {}
        session = login.get("session")
        with translation.override(self.language):
            if event.get("session") and session and event["session"] == session_digest(session):
                await self.end(CLOSE_NOT_AUTHENTICATED, "logged_out", _("You have logged out."))
                return
            if event.get("login") and event["login"] == login.get("login"):
                await self.end(CLOSE_NOT_AUTHENTICATED, "logged_out", _("You have logged out."))
                return
        await self.still_allowed()

    def _take_token(self) -> bool:
        now = time.monotonic()
        rate, per = settings.JINSHAO_CHAT_RATE, settings.JINSHAO_CHAT_RATE_PER
        self.tokens = min(float(rate), self.tokens + (now - self.refilled_at) * rate / per)
        self.refilled_at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    # -------------------------------------------------------------- frames

    async def receive(self, text_data=None, bytes_data=None) -> None:
        with translation.override(self.language):
            size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
            if size > settings.JINSHAO_CHAT_MAX_FRAME_BYTES:
                await self.send_error(
                    "frame_too_large",
                    _("The frame is too large: at most %(limit)s bytes.")
                    % {"limit": settings.JINSHAO_CHAT_MAX_FRAME_BYTES},
                )
                await self.close(code=CLOSE_TOO_BIG)
                return
            if not self._take_token():
                self.strikes += 1
                await self.send_error(
                    "rate_limited", _("Too many frames: slow down and try again shortly.")
                )
                if self.strikes >= settings.JINSHAO_CHAT_RATE_STRIKES:
                    await self.close(code=CLOSE_FLOOD)
                return
            if text_data is None:
                await self.send_error("malformed_frame", _("Send JSON text frames, not binary."))
                return
            try:
                frame = json.loads(text_data)
            except ValueError:
                frame = None
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                await self.send_error(
                    "malformed_frame", _('A frame is a JSON object with a "type".')
                )
                return
            refused = find_refused_characters(frame)
            if refused is not None:  # nothing of it could be stored: refused whole
                error = RefusedCharacters(refused)
                client_id = frame.get("client_id")
                if not isinstance(client_id, str) or has_refused_characters(client_id):
                    client_id = None
                await self.send_error(
                    error.code, str(error), fields=error.fields, client_id=client_id
                )
                return
            if self.ended or not await self.still_allowed():
                return  # nothing from a person who lost the right to be here
            handler = self.handlers.get(frame["type"])
            if handler is None:
                await self.send_error(
                    "unknown_type",
                    _("Unknown frame type: %(type)s.") % {"type": frame["type"][:40]},
                )
                return
            try:
                await getattr(self, handler)(frame)
            except DomainError as exc:
                await self.send_error(
                    exc.code, str(exc), fields=exc.fields, client_id=frame.get("client_id")
                )
            except Exception:
                logger.exception("Socket frame %s failed", frame["type"])
                await self.send_error("server_error", _("Something went wrong; try again."))


class NoRouteConsumer(JsonSocket):
    """Any other socket path: refused with a reason, not a crash."""

    async def connect(self) -> None:
        with translation.override(self.language):
            await self.refuse(CLOSE_NOT_FOUND, "not_found", _("No such socket."))
