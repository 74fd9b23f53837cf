"""A provider that answers whatever the test tells it to: broken pages, odd JSON, silence.

Real panels send HTML error pages, time out, hang up and spell things their own way;
the API v2 client must tell each case apart. This one is served over real HTTP like
the panel in the other tests, so every failure passes through a real socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.support.server import ThreadedServer

HANG_UP = "hang up"
"""What the app returns to make uvicorn close the connection without sending a byte.

uvicorn closes the transport when an ASGI app returns anything but None, before any
response has started; an exception would make it answer 500 instead.
"""


@dataclass
class Reply:
    body: bytes = b"{}"
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0
    hang_up: bool = False
    stream: Callable[[], AsyncIterator[bytes]] | None = None
    """When set, the body is sent as this stream yields it, never built whole."""


@dataclass
class Received:
    method: str
    content_type: str
    form: dict[str, str] = field(default_factory=dict)


class MisbehavingProvider:
    """Set ``answer(...)`` or ``hang_up()`` before each call; ``received`` lists what arrived."""

    def __init__(self) -> None:
        self.reply = Reply()
        self.received: list[Received] = []
        self._app = Starlette(routes=[Route("/api/v2", self._endpoint, methods=["GET", "POST"])])
        self._server = ThreadedServer(self, lifespan="off")
        self._stopping = False

    @property
    def api_url(self) -> str:
        return self._server.api_url

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._stopping = True  # endless streams end, so the server can
        self._server.stop()

    def answer(
        self, body: str | bytes, *, status: int = 200, content_type: str = "application/json", delay: float = 0.0
    ) -> None:
        raw = body.encode() if isinstance(body, str) else body
        self.reply = Reply(raw, status, content_type, delay)

    def hang_up(self) -> None:
        self.reply = Reply(hang_up=True)

    def trickle(self, every: float = 1.0) -> None:
        """Headers at once, then a byte every ``every`` seconds, until the provider stops."""

        async def bytes_slowly() -> AsyncIterator[bytes]:
            yield b"{"
            while not self._stopping:
                await asyncio.sleep(every)
                yield b" "

        self.reply = Reply(stream=bytes_slowly)

    def flood(self, size: int, block: int = 65_536) -> None:
        """An answer of ``size`` bytes (blanks, then ``{"order": 1}``: valid JSON, if read whole),
        sent as fast as the client reads it, one preallocated block at a time."""
        blank = b" " * block

        async def blanks() -> AsyncIterator[bytes]:
            for _ in range(size // block):
                if self._stopping:
                    return
                yield blank
            yield b'{"order": 1}'

        self.reply = Reply(stream=blanks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] == "http" and self.reply.hang_up:
            await self._record(Request(scope, receive))  # the client has sent everything: now say nothing
            return HANG_UP
        await self._app(scope, receive, send)
        return None

    async def _endpoint(self, request: Request) -> Response:
        await self._record(request)
        reply = self.reply
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.stream is not None:
            return StreamingResponse(reply.stream(), status_code=reply.status, media_type=reply.content_type)
        return Response(reply.body, status_code=reply.status, media_type=reply.content_type)

    async def _record(self, request: Request) -> None:
        form = await request.form()
        self.received.append(
            Received(
                request.method,
                request.headers.get("content-type", ""),
                {name: str(value) for name, value in form.items()},
            )
        )
