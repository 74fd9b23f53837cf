"""A lean HTTP/1.1 transport for httpx: the engine's calls to one provider, on kept-alive connections.

httpx's own transport (httpcore over anyio) spends about 0.8 ms of CPU on one small request
here, several times what the rest of a send costs: its connection pool, cancellation shields
and per-event writes. This one keeps at most ``most`` connections to a provider over asyncio's
streams, writes each request in one piece and parses answers with httptools (the C parser
uvicorn uses). It answers httpx ``Response`` objects and raises httpx's own exceptions, so
``ApiV2Client`` tells "never sent" from "may have arrived" exactly as with httpx's transport:
everything before the first byte is written is a connect or pool error, everything after it a
read, write or protocol error. It speaks to the provider directly: with a proxy set in the
environment the pool uses httpx's own transport instead (``providers.pool``).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httptools
import httpx

KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept, as httpx does: servers close theirs after a few seconds
(uvicorn after 5), and a request written just as the server closes would be lost mid-way."""
READ_SIZE = 65_536


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


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    found: dict[str, float | None] = request.extensions.get("timeout", {})
    return found


class KeptAliveTransport(httpx.AsyncBaseTransport):
    """At most ``most`` connections at once (a request waits for one, up to its pool timeout)."""

    def __init__(self, most: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self._slots = asyncio.Semaphore(most)
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._ssl = ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url.scheme}://'.")
        if not url.host:
            raise httpx.ConnectError("Request URL has no host.")
        timeouts = _timeouts(request)
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection in time") from None
        try:
            origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
            connection = self._reuse(origin) or await self._connect(origin, timeouts.get("connect"))
            return await self._exchange(origin, connection, request, timeouts)
        except BaseException:
            self._slots.release()
            raise

    def _reuse(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin, [])
        while idle:
            connection = idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _connect(self, origin: tuple[str, str, int], timeout: float | None) -> _Connection:
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

    async def _exchange(
        self,
        origin: tuple[str, str, int],
        connection: _Connection,
        request: httpx.Request,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        """Write the request in one piece, read the answer's head; its body streams from the answer."""
        body = await request.aread()
        head = [b"%s %s HTTP/1.1\r\n" % (request.method.encode(), request.url.raw_path)]
        head += [b"%s: %s\r\n" % (name, value) for name, value in request.headers.raw]
        trace = request.extensions.get("trace")
        if trace is not None:  # from here on the provider may see the request
            await trace("http11.send_request_headers.started", {"request": request})
        try:
            connection.writer.write(b"".join([*head, b"\r\n", body]))
            async with asyncio.timeout(timeouts.get("write")):
                await connection.writer.drain()
        except TimeoutError:
            connection.close()
            raise httpx.WriteTimeout("timed out while sending the request") from None
        except OSError as error:
            connection.close()
            raise httpx.WriteError(str(error) or type(error).__name__) from None
        answer = _Answer()
        parser = answer.parser = httptools.HttpResponseParser(answer)
        stream = _Body(self, origin, connection, parser, answer, timeouts.get("read"))
        try:
            while not answer.head_done:
                await stream.feed()
        except BaseException:
            connection.close()
            raise
        return httpx.Response(
            parser.get_status_code(),
            headers=answer.headers,
            stream=stream,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def _give_back(self, origin: tuple[str, str, int], connection: _Connection | None) -> None:
        """A finished exchange's connection: kept for the next request when it can be, and its place freed."""
        if connection is not None:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(origin, []).append(connection)
        self._slots.release()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


class _Body(httpx.AsyncByteStream):
    """An answer's body as it arrives; closing it gives the connection back (or closes it, unfinished)."""

    def __init__(
        self,
        transport: KeptAliveTransport,
        origin: tuple[str, str, int],
        connection: _Connection,
        parser: httptools.HttpResponseParser,
        answer: _Answer,
        read_timeout: float | None,
    ) -> None:
        self._transport = transport
        self._origin = origin
        self._connection: _Connection | None = connection
        self._parser = parser
        self._answer = answer
        self._read_timeout = read_timeout
        self._closed = False
        self._eof = False

    async def feed(self) -> None:
        """Read once from the connection into the parser."""
        assert self._connection is not None
        try:
            async with asyncio.timeout(self._read_timeout):
                data = await self._connection.reader.read(READ_SIZE)
        except TimeoutError:
            raise httpx.ReadTimeout("no answer in time") from None
        except OSError as error:
            raise httpx.ReadError(str(error) or type(error).__name__) from None
        if not data:
            self._eof = True
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

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            while self._answer.chunks:
                yield self._answer.chunks.pop(0)
            if self._answer.done:
                return
            await self.feed()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        connection, self._connection = self._connection, None
        reusable = self._answer.done and not self._eof and self._answer.keep_alive
        if connection is not None and not reusable:
            connection.close()
            connection = None
        self._transport._give_back(self._origin, connection)
