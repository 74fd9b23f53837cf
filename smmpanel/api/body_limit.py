"""One size limit for every request body, on every route, enforced before the body is read.

A declared ``Content-Length`` over the limit is answered at once, unread; a body without one
(chunked) is counted as it streams and refused at the first byte past the limit. Either way
the answer is 413: the API's ``{"error": ...}`` under the JSON prefixes, a small HTML page
for the dashboard. Handlers read bodies as usual (``request.form()``, ``request.body()``):
whatever they get has passed here.

Applications that catch every exception themselves (the dashboard does) register
``too_large_handler`` for ``BodyTooLarge``, so that a refusal midway is not taken for a fault.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = "Request body too large"
JSON_PREFIXES = ("/api", "/adminapi", "/payments", "/simulator")
"""Paths answered in JSON: machines read them."""
_PAGE = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Too large · smmpanel</title>'
    '<link rel="stylesheet" href="/static/panel.css"></head><body><main class="page"><section class="card narrow">'
    "<h1>Too large</h1><p>What you sent is larger than this panel accepts. Nothing was changed.</p>"
    '<p><a href="/">Back to the panel</a></p></section></main></body></html>\n'
)


class BodyTooLarge(Exception):
    """The body went past the limit while it was being read."""


def _is_json_path(path: str) -> bool:
    return any(path == prefix or path.startswith(f"{prefix}/") for prefix in JSON_PREFIXES)


def too_large_response(scope: Scope) -> Response:
    path = scope.get("path", "")
    if _is_json_path(path):
        admin = path == "/adminapi" or path.startswith("/adminapi/")  # the admin API's own envelope
        shape = {"data": None, "error_code": 413, "error_message": TOO_LARGE} if admin else {"error": TOO_LARGE}
        return Response(orjson.dumps(shape), status_code=413, media_type="application/json; charset=utf-8")
    return HTMLResponse(_PAGE, status_code=413)


async def too_large_handler(request: Request, _exc: Exception) -> Response:
    return too_large_response(request.scope)


def _declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header; -1 when it is not a number (refused like an oversized one)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else -1
    return None


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and not 0 <= declared <= self.max_bytes:
            await too_large_response(scope)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await too_large_response(scope)(scope, receive, send)
