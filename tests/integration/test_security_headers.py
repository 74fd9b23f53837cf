"""Every answer carries the security headers; the dashboard's policy runs only its own files,
and a page can widen it for itself (as ``/funds`` will for Stripe.js)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from smmpanel.web.headers import SecurityHeaders, extend_csp
from tests.support.panel import Panel
from tests.support.server import LiveServer, ThreadedServer
from tests.support.web import logged_in

PASSWORD = "correct horse"
STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def assert_protected(answer: httpx.Response) -> None:
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_every_kind_of_answer_carries_the_headers(database_url: str, start_server: Callable[..., LiveServer]) -> None:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("10"), password=PASSWORD))
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    anonymous = httpx.Client(base_url=server.base_url, timeout=30)
    alice = logged_in(server.base_url, "alice", PASSWORD)
    boss = logged_in(server.base_url, "boss", PASSWORD)
    answers = [
        anonymous.get("/login"),
        anonymous.get("/signup"),
        anonymous.get("/orders"),  # a redirect to log in
        anonymous.get("/static/panel.js"),
        anonymous.get("/no/such/page"),
        anonymous.post("/api/v2", data={"key": "wrong", "action": "balance"}),
        anonymous.post("/login", content=b"x" * 2_000_000),  # 413
        anonymous.get("/healthz"),
        alice.http.get("/orders/new"),
        alice.http.get("/account/password"),
        boss.http.get("/admin"),
        boss.http.get("/admin/customers"),
    ]
    for answer in answers:
        assert_protected(answer)
    assert {answer.status_code for answer in answers} == {200, 303, 404, 413}
    for page in (answers[0], answers[8], answers[10]):
        assert page.headers["content-security-policy"] == STRICT
        assert "<script>" not in page.text and " style=" not in page.text  # nothing inline for the policy to block
    for client in (anonymous, alice.http, boss.http):
        client.close()


async def _widened(request: Request) -> Response:
    extend_csp(request, script_src=["https://js.stripe.com"], frame_src=["https://js.stripe.com"])
    return HTMLResponse("<p>pay</p>")


async def _plain(request: Request) -> Response:
    return HTMLResponse("<p>plain</p>")


def test_a_page_widens_the_policy_for_itself_only() -> None:
    app = Starlette(routes=[Route("/funds", _widened), Route("/orders", _plain)])
    server = ThreadedServer(SecurityHeaders(app), lifespan="off").start()
    try:
        widened = httpx.get(f"{server.base_url}/funds").headers["content-security-policy"]
        plain = httpx.get(f"{server.base_url}/orders").headers["content-security-policy"]
    finally:
        server.stop()
    assert "script-src 'self' https://js.stripe.com;" in widened
    assert "frame-src https://js.stripe.com;" in widened
    assert "frame-ancestors 'none'" in widened
    assert plain == STRICT


@pytest.mark.parametrize("source", ["https://a.test 'unsafe-inline'", "https://a.test; script-src *", ""])
def test_a_page_cannot_smuggle_directives_into_the_policy(source: str) -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    with pytest.raises(ValueError):
        extend_csp(request, script_src=[source])
