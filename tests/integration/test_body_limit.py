"""Every route refuses a body over the limit before reading it: pages with a small HTML page,
the API (and the payment webhooks to come) with the API's JSON error."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.web import WebUser, logged_in

LIMIT = 4096
PASSWORD = "correct horse"


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> tuple[Panel, LiveServer]:
    server = start_server(max_body_bytes=LIMIT)
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("10"), password=PASSWORD))
    return panel, server


def chunks(total: int) -> Iterator[bytes]:
    yield b"csrf_token=x&username=alice&password="
    for _ in range(total // 1024):
        yield b"x" * 1024


ROUTED_PAGES = [
    (path, chunked) for path in ("/login", "/signup", "/orders/new", "/logout") for chunked in (False, True)
]
UNROUTED = [("/no/such/page", False)]
"""A route that does not exist never reads a body: only a declared length is refused there (first)."""


@pytest.mark.parametrize(("path", "chunked"), ROUTED_PAGES + UNROUTED)
def test_pages_refuse_a_large_form_with_a_page(site: tuple[Panel, LiveServer], path: str, chunked: bool) -> None:
    panel, server = site
    alice = logged_in(server.base_url, "alice", PASSWORD)
    body = chunks(3 * LIMIT) if chunked else b"".join(chunks(3 * LIMIT))
    answer = alice.http.post(path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert ("content-length" in answer.request.headers) is not chunked
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Too large</h1>" in answer.text
    assert alice.http.get("/orders").status_code == 200  # the session survived; nothing else happened
    assert panel.balance("alice") == "10.00"


@pytest.mark.parametrize(
    ("path", "chunked"),
    [("/api/v2", False), ("/api/v2", True), ("/api/v2/", True), ("/payments/stripe/webhook", False)],
)
def test_machine_routes_refuse_a_large_body_with_the_api_error(
    site: tuple[Panel, LiveServer], path: str, chunked: bool
) -> None:
    _, server = site
    body = chunks(3 * LIMIT) if chunked else b"".join(chunks(3 * LIMIT))
    answer = httpx.post(f"{server.base_url}{path}", content=body, timeout=30)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert answer.json() == {"error": "Request body too large"}


def test_a_form_under_the_limit_is_read(site: tuple[Panel, LiveServer]) -> None:
    _, server = site
    user = WebUser(server.base_url)
    fields = {"csrf_token": user.token(), "username": "alice", "password": PASSWORD, "padding": "x" * (LIMIT - 500)}
    assert user.http.post("/login", data=fields).status_code == 303
