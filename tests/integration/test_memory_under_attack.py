"""The serving process's memory stays flat under what an outside test threw at it.

The panel runs as its own process (``smmpanel serve``) and the test reads that process's
resident memory: a warm-up first (so that caches and allocator pools exist), then the attack.
"""

from __future__ import annotations

import contextlib
import select
import socket
from pathlib import Path

import httpx
import pytest

from smmpanel.usecases import accounts
from tests.support.panel import Panel
from tests.support.served import ServedPanel, served_panel
from tests.support.web import WebUser

MB = 1024 * 1024
HUGE = 1_000_000
"""Characters of each attack username: under the body limit, so each one reaches the login form."""
ALLOWED_GROWTH = 24 * MB


def failed_logins_with_huge_usernames(panel: ServedPanel, count: int, offset: int) -> None:
    user = WebUser(panel.base_url)
    try:
        token = user.token()
        for number in range(offset, offset + count):
            username = f"{number}-" + "x" * HUGE
            fields = {"csrf_token": token, "username": username, "password": "a wrong guess"}
            answer = user.http.post("/login", data=fields)
            assert answer.status_code == 400, answer.text[:500]
            assert "Invalid username or password" in answer.text
            assert len(answer.content) < 64 * 1024  # the name is not echoed back either
    finally:
        user.close()


def test_memory_stays_flat_under_200_failed_logins_with_huge_usernames(database_url: str, tmp_path: Path) -> None:
    Panel(database_url).run(lambda db: accounts.create_customer(db, "boss", password="correct horse", admin=True))
    with served_panel(database_url, tmp_path) as panel:
        failed_logins_with_huge_usernames(panel, 20, 0)
        before = panel.rss_bytes()
        failed_logins_with_huge_usernames(panel, 200, 20)
        growth = panel.rss_bytes() - before
        assert growth < ALLOWED_GROWTH, f"the panel grew by {growth / MB:.0f} MB"
        owner = WebUser(panel.base_url)
        assert owner.log_in("boss", "correct horse").status_code == 303
        owner.close()


FORM_POST = 150 * MB
CHUNK = 256 * 1024


def _send_huge_post(panel: ServedPanel, path: str, *, chunked: bool) -> bytes:
    """Stream a 150 MB form post over a raw socket until the panel answers; what it answered.

    The panel answers as soon as it refuses (and may close the connection while data is
    still coming), so the sender stops at the first answer or the first refused write.
    """
    host, port = panel.base_url.removeprefix("http://").split(":")
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {FORM_POST}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n{length}\r\n\r\n"
    )
    payload = b"x" * CHUNK
    piece = f"{CHUNK:x}\r\n".encode() + payload + b"\r\n" if chunked else payload
    answer = b""
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head.encode() + (b"9\r\nusername=\r\n" if chunked else b"username="))
        try:
            for _ in range(FORM_POST // CHUNK):
                if select.select([sock], [], [], 0)[0]:
                    break
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            while b"\r\n\r\n" not in answer:
                received = sock.recv(65536)
                if not received:
                    break
                answer += received
    return answer


@pytest.mark.parametrize("path", ["/login", "/signup", "/api/v2"])
def test_memory_stays_flat_under_150_megabyte_form_posts(database_url: str, tmp_path: Path, path: str) -> None:
    with served_panel(database_url, tmp_path) as panel:
        _send_huge_post(panel, path, chunked=True)
        before = panel.rss_bytes()
        for chunked in (False, True, False, True):
            answer = _send_huge_post(panel, path, chunked=chunked)
            assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]
        growth = panel.rss_bytes() - before
        assert growth < ALLOWED_GROWTH, f"the panel grew by {growth / MB:.0f} MB"
        assert httpx.get(f"{panel.base_url}/healthz", timeout=10).status_code == 200
