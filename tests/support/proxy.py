"""A plain-HTTP forwarding proxy on loopback, in a thread of its own: what ``HTTP_PROXY`` points at.

A client that uses a proxy sends it each request with the full address as its target
(``POST http://127.0.0.1:8100/api/v2 HTTP/1.1``); the proxy opens a connection to that
origin, relays the request with its path only, and relays the answer back. One request per
connection each way (``Connection: close``): enough for a test to see what went through it.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = (b"connection:", b"proxy-", b"keep-alive:")


class ForwardingProxy:
    """``relayed`` lists (target, action) of every request relayed, in order."""

    def __init__(self) -> None:
        self.relayed: list[tuple[str, str]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        opening = asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._server = asyncio.run_coroutine_threadsafe(opening, self._loop).result(timeout=10)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head[:-4].split(b"\r\n")
            method, target, _version = request_line.split(b" ")
            headers = [line for line in lines if not line.lower().startswith(HOP_BY_HOP)]
            length = next(
                (int(line.split(b":")[1]) for line in headers if line.lower().startswith(b"content-length")), 0
            )
            body = await reader.readexactly(length)
            address = urlsplit(target.decode())
            action = parse_qs(body.decode()).get("action", [""])[0]
            self.relayed.append((target.decode(), action))
            origin_reader, origin_writer = await asyncio.open_connection(address.hostname, address.port or 80)
            path = address.path + (f"?{address.query}" if address.query else "")
            relayed = [b"%s %s HTTP/1.1" % (method, path.encode()), *headers, b"Connection: close", b"", b""]
            origin_writer.write(b"\r\n".join(relayed) + body)
            answer = await origin_reader.read()  # to the end: the origin closes after one answer
            origin_writer.close()
            writer.write(answer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
