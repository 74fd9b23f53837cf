"""Real HTTP servers on loopback ports, in background threads: the panel itself, or any ASGI app."""

from __future__ import annotations

import socket
import threading
import time
from typing import Literal, Self

import uvicorn
from starlette.types import ASGIApp

from smmpanel.app import create_app
from smmpanel.config import Settings


class ThreadedServer:
    """Any ASGI app served by uvicorn on a free loopback port, so tests speak real HTTP to it.

    The socket is bound before the thread starts: the port is known (and taken) at once.
    """

    def __init__(self, app: ASGIApp, *, lifespan: Literal["on", "off", "auto"] = "on") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v2"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)
        self._sock.close()


class LiveServer(ThreadedServer):
    """A real smmpanel server with the given settings."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(create_app(settings))
