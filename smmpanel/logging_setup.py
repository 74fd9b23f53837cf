"""Logs: one JSON object (or one readable line) per event on stderr, with the request id.

Secrets never reach a log line. Request bodies and query strings are never logged (only
the path), libraries that would log SQL parameters, rows or HTTP payloads are held at
WARNING whatever the level, and as a last guard every message is passed through
``redact``, which blanks ``key=…``, ``password=…`` and the like.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from contextvars import ContextVar
from typing import Any, Literal

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("smmpanel_request_id", default=None)
"""The id of the request being served; each request runs in its own task, so its own context."""

QUIET_LOGGERS = (
    "sqlalchemy",  # statements, parameters and rows at INFO/DEBUG
    "aiosqlite",  # every call, with its parameters, at DEBUG
    "asyncpg",
    "httpx",  # provider URLs at INFO
    "httpcore",
    "multipart",
    "python_multipart",
    "redis",
    "uvicorn.access",  # replaced by the one line per request of ``api.observability``
)

_SECRET_NAMES = r"(?:api_key|apikey|key|password|passwd|new_password|current_password|token|secret|csrf_token)"
_SECRETS = re.compile(
    rf"(?i)(?P<pair>\b{_SECRET_NAMES}=)[^&\s\"',;]+"  # key=value, as in a query string or a form
    rf"|(?P<json>\"{_SECRET_NAMES}\"\s*:\s*)\"(?:[^\"\\]|\\.)*\""  # "key": "value"
    rf"|(?P<repr>'{_SECRET_NAMES}'\s*:\s*)'(?:[^'\\]|\\.)*'"  # 'key': 'value', as a dict's repr
)


def _blank(found: re.Match[str]) -> str:
    if found["pair"]:
        return found["pair"] + "***"
    if found["json"]:
        return found["json"] + '"***"'
    return found["repr"] + "'***'"


_MAYBE_SECRET = re.compile(r"(?i)(?:key|passw(?:or)?d|token|secret)(?:=|[\"']\s*:)")
"""Matches wherever ``_SECRETS`` does (every secret name ends in one of these, and is followed by
``=``, or a quote and a colon), and runs four times as fast: most lines have an ``=`` or a ``:``
(the request line's ``action=``) and no secret, and are let through after this one search."""


def redact(text: str) -> str:
    """Blank the values of secret-looking parameters in ``a=b`` pairs, JSON and Python reprs."""
    if ("=" in text or ":" in text) and _MAYBE_SECRET.search(text):
        return _SECRETS.sub(_blank, text)
    return text


_last_second: tuple[int, str] = (-1, "")
"""The last whole second formatted, with its text: a busy process logs many lines a second."""


def _timestamp(created: float) -> str:
    global _last_second
    second, text = _last_second  # one read: another thread may replace the pair meanwhile
    if second != int(created):
        second, text = _last_second = int(created), time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{text}.{int(created % 1 * 1000):03d}Z"


class _RequestIdFilter(logging.Filter):
    """Stamp each record with the current request's id (``request_id``; `` [id]`` as ``rid``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        setattr(record, "request_id", request_id)  # noqa: B010 (LogRecord has no such field to type)
        setattr(record, "rid", f" [{request_id}]" if request_id else "")  # noqa: B010
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", "request_id", …the record's ``fields``…, "exc"}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({name: redact(value) if isinstance(value, str) else value for name, value in fields.items()})
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "rid"):
            setattr(record, "rid", "")  # noqa: B010
        return redact(super().format(record))


def configure_logging(log_format: Literal["json", "text"], level: str) -> None:
    """Send every log record to stderr in ``log_format``; idempotent (each call replaces the last)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging._srcfile = None  # no stack walk per record: no format here shows a file or line (logging HOWTO)
    # Nor a thread, process or multiprocessing name: not gathered for each record either (the HOWTO's
    # "Optimization"), which cost a request's line a few microseconds (issue #16 item 8).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        quiet = logging.getLogger(name)
        quiet.handlers.clear()
        quiet.propagate = True
    logging.getLogger("uvicorn.access").propagate = False
