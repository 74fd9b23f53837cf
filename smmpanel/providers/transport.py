"""A lean HTTP/1.1 client for the engine's calls to providers: form posts on kept-alive connections.

httpx (its client and its own transport, httpcore over anyio) spends about 1 ms of CPU on one
small request here, several times what the rest of a send costs: building the request and the
response models, cookies, the connection pool's bookkeeping, cancellation shields, a write per
event. This one does only what an API v2 call needs: it keeps at most ``most`` connections over
asyncio's streams, writes each form post in one piece and parses the answer with httptools (the
C parser uvicorn uses). It raises httpx's own exceptions, so ``ApiV2Client`` tells "never sent"
from "may have arrived" exactly as it does through httpx: everything before the first byte is
written is a connect or pool error, everything after it a read, write or protocol error.

It speaks to the provider directly: with a proxy set in the environment the pool uses an
httpx client instead (``providers.pool``). It asks for no compression (an answer sent
compressed anyway is not JSON to the client: ambiguous, never resent).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httptools
import httpx

KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept, as httpx does: servers close theirs after a few seconds
(uvicorn after 5), and a request written just as the server closes would be lost mid-way."""
READ_SIZE = 65_536
USER_AGENT = b"smmpanel"

Origin = tuple[str, str, int]


@dataclass
class _Answer:
    """What httptools has parsed of one answer so far (it calls these methods)."""

    parser: httptools.HttpResponseParser | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    head_done: bool = False
    done: bool = False
    keep_alive: bool = False
    """Whether the connection may carry another request; only the parser knows, and only until
    the answer is complete."""

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.done = True
        self.keep_alive = self.parser is not None and self.parser.should_keep_alive()


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()

    def usable(self) -> bool:
        fresh = time.monotonic() - self.idle_since < KEEPALIVE_EXPIRY
        return fresh and not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class Answer:
    """One answer as it arrives: its status and content type, then its body (``chunks``)."""

    def __init__(self, connection: _Connection, read_timeout: float | None) -> None:
        self._connection = connection
        self._read_timeout = read_timeout
        self._answer = _Answer()
        self._parser = self._answer.parser = httptools.HttpResponseParser(self._answer)
        self.eof = False
        self.status = 0
        self.content_type = "no content type"

    async def read_head(self) -> None:
        while not self._answer.head_done:
            await self._feed()
        self.status = self._parser.get_status_code()
        for name, value in self._answer.headers:
            if name.lower() == b"content-type":
                self.content_type = value.decode("latin-1")

    @property
    def reusable(self) -> bool:
        """Read to its end, and the connection may carry another request."""
        return self._answer.done and not self.eof and self._answer.keep_alive

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's pieces as they arrive."""
        answer = self._answer
        while True:
            while answer.chunks:
                yield answer.chunks.pop(0)
            if answer.done:
                return
            await self._feed()

    async def _feed(self) -> None:
        """Read once from the connection into the parser."""
        try:
            async with asyncio.timeout(self._read_timeout):
                data = await self._connection.reader.read(READ_SIZE)
        except TimeoutError:
            raise httpx.ReadTimeout("no answer in time") from None
        except OSError as error:
            raise httpx.ReadError(str(error) or type(error).__name__) from None
        if not data:
            self.eof = True
            if not self._answer.head_done:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            if not self._answer.done and not self._until_close():
                raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
            self._answer.done = True
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            raise httpx.RemoteProtocolError(f"malformed answer: {error}") from None

    def _until_close(self) -> bool:
        """An answer with neither a length nor chunks ends where the connection does."""
        names = {name.lower() for name, _ in self._answer.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names


def _head(url: httpx.URL, length: int) -> bytes:
    """A form post's request line and headers."""
    lines = [
        b"POST %s HTTP/1.1\r\n" % url.raw_path,
        b"Host: %s\r\n" % url.netloc.rpartition(b"@")[2],
        b"User-Agent: %s\r\nAccept: */*\r\n" % USER_AGENT,
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n" % length,
    ]
    if url.userinfo:  # as httpx does: credentials in the address are sent as basic auth
        credentials = f"{url.username}:{url.password}".encode()
        lines.append(b"Authorization: Basic %s\r\n" % base64.b64encode(credentials))
    return b"".join([*lines, b"\r\n"])


class KeptAliveTransport:
    """At most ``most`` connections at once (a request waits for one, up to its pool timeout)."""

    def __init__(self, most: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self._slots = asyncio.Semaphore(most)
        self._idle: dict[Origin, list[_Connection]] = {}
        self._ssl = ssl_context

    @contextlib.asynccontextmanager
    async def post(
        self, url: httpx.URL, form: bytes, timeout: httpx.Timeout, sending: Callable[[], None]
    ) -> AsyncIterator[Answer]:
        """POST the url-encoded ``form`` to ``url``; the answer's head is read, its body to be read.

        ``sending`` is called just before the request's first byte is written: from then on
        the provider may have seen it. Leaving the block gives the connection back for the
        next request when the answer was read to its end, and closes it otherwise.
        """
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url.scheme}://'.")
        if not url.host:
            raise httpx.ConnectError("Request URL has no host.")
        try:
            async with asyncio.timeout(timeout.pool):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection in time") from None
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        connection: _Connection | None = None
        answer: Answer | None = None
        try:
            connection = self._reuse(origin) or await self._connect(origin, timeout.connect)
            sending()
            await _write(connection, b"".join([_head(url, len(form)), form]), timeout.write)
            answer = Answer(connection, timeout.read)
            await answer.read_head()
            yield answer
        finally:
            if connection is not None and answer is not None and answer.reusable:
                connection.idle_since = time.monotonic()
                self._idle.setdefault(origin, []).append(connection)
            elif connection is not None:
                connection.close()
            self._slots.release()

    def _reuse(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin, [])
        while idle:
            connection = idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        secure = None
        if scheme == "https":
            secure = self._ssl = self._ssl or httpx.create_ssl_context()
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=secure, server_hostname=host if secure else None, limit=READ_SIZE
                )
        except TimeoutError:
            raise httpx.ConnectTimeout("could not connect in time") from None
        except (OSError, ssl.SSLError) as error:
            raise httpx.ConnectError(str(error)) from None
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


async def _write(connection: _Connection, request: bytes, timeout: float | None) -> None:
    """The whole request in one write."""
    try:
        connection.writer.write(request)
        async with asyncio.timeout(timeout):
            await connection.writer.drain()
    except TimeoutError:
        raise httpx.WriteTimeout("timed out while sending the request") from None
    except OSError as error:
        raise httpx.WriteError(str(error) or type(error).__name__) from None
