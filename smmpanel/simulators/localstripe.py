"""localstripe (a stateful fake Stripe with its own Stripe.js) as a child process on loopback.

The tests and the demo point a Stripe gateway at it: ``api_base`` is ``base_url`` and ``js_url``
is ``js_url``. It signs its webhooks with the secret it is given through its own
``/_config/webhooks/<id>`` endpoint (``register_webhook``), exactly as Stripe signs them.

The socket is bound here, on 127.0.0.1 (localstripe's own ``start`` listens on every address),
and handed to the child, so the port is known and taken before the child starts. The child
keeps its objects in memory only: localstripe's habit of pickling them to one shared file in
/tmp after every change is turned off, so several instances can run side by side.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import Self
from urllib.parse import urlencode

import httpx

_CHILD = """
import socket, sys
from aiohttp import web
from localstripe import resources
from localstripe.server import app
resources.Store.dump_to_disk = lambda self: None
sock = socket.socket(fileno=int(sys.argv[1]))
web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)
"""


class LocalStripe:
    """``with LocalStripe() as fake:`` — a localstripe on a free loopback port until the block ends."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def js_url(self) -> str:
        return f"{self.base_url}/js.stripe.com/v3/"

    def start(self, *, timeout: float = 30) -> Self:
        fd = self._sock.fileno()
        self._process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(fd)],
            pass_fds=[fd],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(self.js_url, timeout=2).raise_for_status()
                return self
            except httpx.HTTPError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("localstripe did not start (is the localstripe package installed?)") from None
                time.sleep(0.05)

    def register_webhook(self, url: str, secret: str, events: tuple[str, ...], *, name: str = "panel") -> None:
        """Send these events to ``url``, signed with ``secret`` (a second call with ``name`` replaces it)."""
        fields = [("url", url), ("secret", secret), *(("events[]", event) for event in events)]
        response = httpx.post(
            f"{self.base_url}/_config/webhooks/{name}",
            content=urlencode(fields).encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        response.raise_for_status()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
