"""Request ids, one log line per request and the API's metrics, as one pure ASGI middleware.

The request id is the client's ``X-Request-ID`` when it is a sane token, else a new one;
it is answered in the same header and stamped on every log line of the request. The
request line holds method, path (never the query string, where keys travel), action,
outcome, status, duration and client address: never a parameter or a body.

API v2 tells the middleware what it did through the request's ``ApiCall``.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smmpanel import metrics
from smmpanel.logging_setup import REQUEST_ID

log = logging.getLogger("smmpanel.http")

HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")
_CALL = "smmpanel.api_call"
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
"""Polled every few seconds: their lines are logged at DEBUG."""
UNHANDLED_STATUS = 503
"""What the fallback answers when a request fails before its response starts."""
_LINE = "%s %s%s %d %.1fms"
"""The request line's text: ``POST /api/v2 action=balance 200 1.2ms``."""


@dataclass(slots=True)
class ApiCall:
    """What API v2 did with a request. ``action`` is the client's raw text: only ever used
    through ``metrics.action_label``, which maps anything unknown to ``unknown``."""

    action: str = ""
    error: str | None = None


def api_call(scope: Scope) -> ApiCall:
    """This request's ``ApiCall``, created on first use: the request counts as an API call."""
    call = scope.get(_CALL)
    if not isinstance(call, ApiCall):
        call = scope[_CALL] = ApiCall()
    return call


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER and _SANE_ID.match(value):
            return str(value.decode("ascii"))
    return os.urandom(16).hex()  # as random as ``uuid4().hex``, without building the UUID


class Observability:
    """``fallback`` answers a request that failed before its response began: the fault is
    logged once, here, and the request ends with that answer. (Starlette's own handler for
    ``Exception`` answers and then re-raises, so the server logged each fault a second time
    and closed the client's kept-alive connection.) A fault after the answer began can only
    end the connection: it is re-raised for the server to do that."""

    def __init__(self, app: ASGIApp, fallback: ASGIApp) -> None:
        self.app = app
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        REQUEST_ID.set(request_id)  # each request runs in a task of its own: no reset needed
        encoded = request_id.encode("ascii")
        status = 0
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, encoded)]  # each answer's own dict
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                if status:
                    raise
                log.exception("unhandled error on %s", scope.get("path", ""))
                await self.fallback(scope, receive, send_with_id)
        finally:
            self._finish(scope, status or UNHANDLED_STATUS, time.perf_counter() - started)

    @staticmethod
    def _finish(scope: Scope, status: int, seconds: float) -> None:
        path: str = scope.get("path", "")[:200]
        method = scope.get("method")
        fields: dict[str, object] = {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client": (scope.get("client") or ("",))[0],
        }
        call = scope.get(_CALL)
        action = ""
        if isinstance(call, ApiCall):
            label, outcome = metrics.action_label(call.action), metrics.outcome_of(call.error, status)
            metrics.api_request(label, outcome, seconds)
            fields["action"], fields["outcome"] = label, outcome
            action = f" action={label}"
        level = logging.DEBUG if path in PROBES else logging.WARNING if status >= 500 else logging.INFO
        if log.isEnabledFor(level):
            log.log(level, _LINE, method, path, action, status, seconds * 1000, extra={"fields": fields})
