"""Logs: one JSON object per line, a request id on every line logged during a request, secrets redacted.

The web layer sets `request_id` for the duration of a request; a log record factory stamps it on every record
created meanwhile, whatever logger or handler is used. `RedactSecrets` is defence in depth: no code should log
a password, code, token, secret or key, and a test drives real journeys to prove none does; the filter still
masks anything that looks like one. gunicorn's own log lines use the same formatter (`gunicorn.conf.py`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# The attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "taskName"}
)

REDACTED = "[redacted]"
# A JWT or JWS in compact form: header.payload.signature, the first two base64url JSON objects.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
# name=value, name: value, "name": "value"; whether the name says it holds a secret is decided by _is_secret_name.
_NAMED_VALUE = re.compile(r"""([\w-]+)(["']?\s*[:=]\s*["']?)([^\s&"',;)}\]]+)""")
# Some names only exactly (status_code is not a code), others within a longer name (IDP_MASTER_KEY, client_secret,
# code_verifier, access_token).
_EXACT_SECRET_NAMES = frozenset({"code", "otp", "pin", "session", "cookie", "authorization"})
_SECRET_WORDS = ("password", "passcode", "secret", "token", "key", "assertion", "verifier", "credential")
# The query string of any URL or request line: /authorize's and /callback's carry codes and hints.
_QUERY = re.compile(r"""((?:https?://[^\s?#"']+)|(?:\s/[^\s?#"']*))\?[^\s"']+""")


def _is_secret_name(name: str) -> bool:
    name = name.lower()
    return name in _EXACT_SECRET_NAMES or any(word in name for word in _SECRET_WORDS)


def _mask_named_value(match: re.Match[str]) -> str:
    name, separator, _value = match.groups()
    return f"{name}{separator}{REDACTED}" if _is_secret_name(name) else match.group(0)


def redact(text: str) -> str:
    """Each pattern runs only when the text holds the character it needs: most lines hold none, and cost little."""
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    lowered = text.lower()
    if "bearer" in lowered or "basic" in lowered:
        text = _CREDENTIALS.sub(r"\1 " + REDACTED, text)
    if "=" in text or ":" in text:
        text = _NAMED_VALUE.sub(_mask_named_value, text)
    if "?" in text:
        text = _QUERY.sub(r"\1?" + REDACTED, text)
    return text


class RedactSecrets(logging.Filter):
    """Masks what looks like a secret in the message and in every string field of the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES and not isinstance(value, int | float | bool | None):
                setattr(record, name, REDACTED if _is_secret_name(name) else _redact_value(value))
        return True


def _redact_value(value: Any) -> Any:
    """Strings redacted; in a mapping, the value of any key that names a secret masked whole; the rest as it is."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: REDACTED if _is_secret_name(str(k)) else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_redact_value(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, process, then any `extra=` fields; exceptions as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "process": record.process,
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a record arrives (test runners swap it), never a stale stream."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def _stamp_request_id(factory: Any) -> Any:
    def create_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = factory(*args, **kwargs)
        record.request_id = request_id.get()
        return record

    create_record.stamps_request_id = True  # type: ignore[attr-defined]
    return create_record


def configure_logging(level: str | int) -> None:
    """JSON lines on stderr from the root logger, once per process; gunicorn may have installed them already."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "stamps_request_id", False):
        logging.setLogRecordFactory(_stamp_request_id(factory))
    root = logging.getLogger()
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = StderrHandler()
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RedactSecrets())
        root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
