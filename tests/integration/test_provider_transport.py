"""The engine's kept-alive transport on real sockets: connections reused, and every answer framing read.

A raw asyncio server stands in for a provider, so each test controls the bytes and the
connections exactly: how many were opened, when one is closed, how an answer is framed.
The failure classes of the API v2 client through this transport are covered by
``test_apiv2_client.py`` (its ``client`` fixture runs every misbehaving provider on both).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from smmpanel.providers.apiv2_client import ApiV2Client, UpstreamUnreachable
from smmpanel.providers.transport import KeptAliveTransport

pytestmark = pytest.mark.anyio

Answer = Callable[[int], bytes]
"""The bytes answering the n-th request (from 1) received on any connection."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def framed(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Provider:
    """Answers each request with ``answer(n)``; closes the connection after it when ``close_after(n)``."""

    def __init__(self, answer: Answer, close_after: Callable[[int], bool] = lambda n: False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.connections = 0
        self.requests: list[bytes] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                self.requests.append(head + await reader.readexactly(length))
                number = len(self.requests)
                writer.write(self.answer(number))
                await writer.drain()
                if self.close_after(number):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(provider: Provider) -> AsyncIterator[ApiV2Client]:
    server = await asyncio.start_server(provider.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http = KeptAliveTransport(2)
    try:
        yield ApiV2Client(f"http://127.0.0.1:{port}/api/v2", "key", timeout=5, connect_timeout=2, client=http)
    finally:
        await http.aclose()
        server.close()
        await server.wait_closed()


async def test_calls_one_after_another_share_one_connection_and_each_is_one_whole_request() -> None:
    provider = Provider(lambda n: framed(b'{"order": %d}' % n))
    async with serving(provider) as client:
        ids = [await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"}) for _ in range(5)]
    assert ids == [1, 2, 3, 4, 5]
    assert provider.connections == 1
    first = provider.requests[0]
    assert first.startswith(b"POST /api/v2 HTTP/1.1\r\n")
    assert first.endswith(b"\r\n\r\nservice=1&link=https%3A%2F%2Fx.test%2Fa&quantity=100&key=key&action=add")


async def test_at_most_the_limit_of_connections_are_opened_however_many_calls_wait() -> None:
    provider = Provider(lambda n: framed(b'{"balance": "1.00"}'))
    async with serving(provider) as client:
        answers = await asyncio.gather(*(client.balance() for _ in range(20)))
    assert answers == [(100_000, "")] * 20
    assert provider.connections <= 2


async def test_a_connection_the_provider_closed_is_not_reused() -> None:
    """The provider says ``Connection: close`` (or just closes): the next call connects again,
    it is never written into a dead connection (which would make it ambiguous)."""
    said = Provider(lambda n: framed(b'{"order": %d}' % n, "Connection: close"), close_after=lambda n: True)
    silent = Provider(lambda n: framed(b'{"order": %d}' % n), close_after=lambda n: True)
    for provider in (said, silent):
        async with serving(provider) as client:
            for _ in range(3):
                await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"})
                await asyncio.sleep(0.05)  # the close reaches the client before the next call
        assert (provider.connections, len(provider.requests)) == (3, 3)


async def test_chunked_answers_and_answers_ending_with_the_connection_are_read_whole() -> None:
    chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"ord\r\n8\r\ner": 77}\r\n0\r\n\r\n'
    until_close = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"order": 88}'
    provider = Provider(lambda n: chunked if n == 1 else until_close, close_after=lambda n: n == 2)
    async with serving(provider) as client:
        assert await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"}) == 77
        assert await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"}) == 88
    assert provider.connections == 1


async def test_an_address_nobody_listens_on_is_unreachable() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    http = KeptAliveTransport(2)
    client = ApiV2Client(f"http://127.0.0.1:{port}/api/v2", "key", timeout=5, connect_timeout=2, client=http)
    with pytest.raises(UpstreamUnreachable):
        await client.balance()
    ftp = ApiV2Client("ftp://127.0.0.1/api/v2", "key", client=http)
    with pytest.raises(UpstreamUnreachable, match="not an http"):
        await ftp.balance()
    await http.aclose()


async def test_credentials_in_the_address_are_sent_as_basic_auth_and_never_as_part_of_the_host() -> None:
    provider = Provider(lambda n: framed(b'{"order": 5}'))
    server = await asyncio.start_server(provider.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = KeptAliveTransport(1)
    try:
        client = ApiV2Client(f"http://user:p%40ss@127.0.0.1:{port}/api/v2?panel=7", "key", client=transport)
        assert await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"}) == 5
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()
    (request,) = provider.requests
    head = request.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0] == b"POST /api/v2?panel=7 HTTP/1.1"
    assert f"Host: 127.0.0.1:{port}".encode() in head
    assert b"Authorization: Basic dXNlcjpwQHNz" in head  # base64 of "user:p@ss"
