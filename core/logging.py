"""Structured logs without personal data, and error reports to Sentry.

Every record passing the console handler (``config.settings.LOGGING``) gets
``request_id`` (``RequestIdFilter``) and is scrubbed (``RedactFilter``):
mobile and landline numbers are masked like ``core.masking.mask_phone``,
values of sensitive keys (passwords, tokens, tickets, keys, cookies, ...) are
replaced by ``[redacted]``, in the message and in any extra field. The
formatter writes one JSON object per line (``JsonFormatter``), or readable
text in the demo (``JINSHAO_LOG_FORMAT=text``). Sentry events get the same
scrubbing (``before_send``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from core import requestid
from core.masking import mask_phone

REDACTED = "[redacted]"

#: Mainland mobile numbers (optionally +86 / 0086, spaces or dashes inside)
#: and landlines with an area code (010-12345678, 0571 8888 8888): never
#: glued to other letters or digits, so ids, hashes and timestamps are left alone.
_PHONE = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:(?:\+|00)86[- ]?)?"
    r"(?:1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{2,3}[- ]?\d{7,8})"
    r"(?![0-9A-Za-z])"
)
#: Keys whose values are never logged, in dicts (extra fields, Sentry events).
_SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|ticket|authori[sz]ation|cookie|session|csrf|"
    r"api[-_]?key|private[-_]?key|_key$|^key$|dsn|otp|^access$|^refresh$|^phone|mobile",
    re.IGNORECASE,
)
#: ``password=…``, ``"token": "…"``, ``ticket: …`` and ``Bearer …`` in free text.
_SENSITIVE_PAIR = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|secret|token|access_token|refresh_token|ticket|"
    r"api[-_]?key|authorization|sessionid|csrftoken)\b)"
    r"(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>[^\s&\"',;}]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|JWT|Token)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)

#: Attributes every LogRecord has: not "extra" fields.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


def redact_text(text: str) -> str:
    """``text`` with phone numbers masked and sensitive ``key=value`` values replaced."""
    text = _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
    text = _SENSITIVE_PAIR.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def redact(value: Any, key: str | None = None) -> Any:
    """``value`` scrubbed: strings by ``redact_text``, dicts and lists through, and the
    whole value replaced when its ``key`` names a secret or a phone."""
    if key is not None and _SENSITIVE_KEY.search(key) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    return value


class RequestIdFilter(logging.Filter):
    """Puts the current ``request_id`` (``core.requestid``) on every record; None outside."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = requestid.get()
        return True


class RedactFilter(logging.Filter):
    """Scrubs the message (formatted once, with its arguments) and the extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it itself
            return True
        record.msg = redact_text(message)
        record.args = None
        for name, value in list(record.__dict__.items()):
            if name not in _RECORD_ATTRS and name != "request_id":
                record.__dict__[name] = redact(value, name)
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line: ``time level logger message request_id`` and any extras."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        # uvicorn's copy of its message with terminal colours: noise in a log store.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "color_message"])
        super().__init__(*args or ("%(levelname)s %(name)s %(message)s %(request_id)s",), **kwargs)

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        formatted = super().formatException(ei)
        return redact_text(formatted if isinstance(formatted, str) else "\n".join(formatted))


class TextFormatter(logging.Formatter):
    """Readable lines for the demo: time, level, logger, [request id], message, extras."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        line = super().format(record)
        extras = [
            f"{name}={value}"
            for name, value in record.__dict__.items()
            if name not in _RECORD_ATTRS and name != "request_id"
        ]
        return f"{line} {' '.join(extras)}" if extras else line

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return redact_text(super().formatException(ei))


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` dict: every record through one stdout handler, ids added, scrubbed.

    ``log_format`` is ``"json"`` or ``"text"``; anything else raises ``ValueError``.
    """
    if log_format not in ("json", "text"):
        raise ValueError("JINSHAO_LOG_FORMAT must be json or text")
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "redact": {"()": RedactFilter},
        },
        "formatters": {"main": {"()": formatter}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "main",
                "filters": ["request_id", "redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own request logger repeats what jinshao.request says (4xx/5xx),
            # without the id; errors still go through, with their traceback.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            # uvicorn configures its own loggers before Django starts; these take them
            # back: its lines in the same shape and scrubbed (a socket's handshake line
            # carries its ?ticket=), its access line dropped for jinshao.request's.
            "uvicorn": {"handlers": ["console"], "propagate": False},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True, "level": "WARNING"},
        },
    }


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry's ``before_send``: the event scrubbed as the logs are, with the request's
    body, cookies and query string dropped and the request id added as a tag."""
    request = event.get("request")
    if isinstance(request, dict):
        for part in ("data", "cookies", "query_string"):
            request.pop(part, None)
    rid = requestid.get()
    if rid:
        event.setdefault("tags", {})["request_id"] = rid
    return redact(event)


def init_sentry(
    *, dsn: str, environment: str, release: str | None, traces_sample_rate: float
) -> bool:
    """Start error reporting to ``dsn`` (Sentry or GlitchTip); nothing without one.

    Returns whether it was started. Personal data is never sent
    (``send_default_pii=False``, ``before_send``).
    """
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        before_send=before_send,  # type: ignore[arg-type]
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
    return True
