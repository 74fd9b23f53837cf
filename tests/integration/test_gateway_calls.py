"""How the HTTP gateway adapters treat a gateway that misbehaves: never a crash, never a guess."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from smmpanel.gateways.base import Unavailable
from smmpanel.gateways.wire import MAX_ANSWER_BYTES, call
from tests.support.engine import refusing_address
from tests.support.server import ThreadedServer


async def _huge(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_ANSWER_BYTES // 65_536 + 2):  # more than any gateway would ever answer
            yield b"x" * 65_536

    return StreamingResponse(chunks())


async def _error_page(request: Request) -> Response:
    return HTMLResponse("<html><body>502 Bad Gateway</body></html>", status_code=502)


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    app = Starlette(routes=[Route("/huge", _huge), Route("/error", _error_page, methods=["POST"])])
    server = ThreadedServer(app, lifespan="off").start()
    yield server.base_url
    server.stop()


def test_an_oversized_answer_is_cut_at_the_limit(gateway: str) -> None:
    with pytest.raises(Unavailable, match=f"more than {MAX_ANSWER_BYTES} bytes"):
        asyncio.run(call("PayPal", "GET", f"{gateway}/huge", timeout=30))


def test_an_error_page_is_no_answer(gateway: str) -> None:
    answer = asyncio.run(call("Cryptomus", "POST", f"{gateway}/error", timeout=30))
    assert answer.status_code == 502
    with pytest.raises(Unavailable, match="Cryptomus answered HTTP 502 without a JSON object"):
        answer.json("Cryptomus")


def test_an_unreachable_gateway_is_unavailable() -> None:
    with refusing_address() as url, pytest.raises(Unavailable, match="could not be reached: ConnectError"):
        asyncio.run(call("PayPal", "GET", url, timeout=5))
