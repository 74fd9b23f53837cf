"""The admin API's desk over HTTP, on both back ends: refills, cancels, payments, users, tickets,
roles, the rate limit, the body limit, and the older /adminapi/v1."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smmpanel.usecases import accounts, tickets
from tests.support.adminapi import JSON_TYPE, admin_key, admin_panel
from tests.support.panel import Panel
from tests.support.server import LiveServer

LINK = "https://x.test/post"


@pytest.fixture
def panel(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Panel]:
    with admin_panel(database_url, start_server, max_body_bytes=4096) as driver:
        yield driver


def place(panel: Panel, key: str, service: int, quantity: int = 1000) -> int:
    answer = panel.call(key, "add", service=service, link=LINK, quantity=quantity)
    assert isinstance(answer.get("order"), int), answer
    return int(answer["order"])


def test_payments_add_is_a_ledger_top_up_with_its_note(panel: Panel) -> None:
    panel.customer("alice", "1.5")
    client = admin_key(panel)
    added = client.data("POST", "/adminapi/v2/payments/add", {"user": "alice", "amount": "10.25", "memo": "bank 22"})
    assert added == {
        "user": "alice",
        "amount": {"value": "10.25", "currency_code": "USD"},
        "balance": {"value": "11.75", "currency_code": "USD"},
        "memo": "bank 22",
    }
    listed = client.answer("GET", "/adminapi/v2/payments", user="alice")
    amounts = [(row["amount"]["value"], row["memo"]) for row in listed["data"]["list"]]
    assert amounts == [("10.25", "bank 22"), ("1.50", "opening balance")]
    assert listed["data"]["count"] == 2
    for amount in ("0", "-3", "1.000001", 1e400, True, None, [1]):
        refused = client.answer("POST", "/adminapi/v2/payments/add", {"user": "alice", "amount": amount})
        assert (refused["data"], refused["error_code"]) == (None, 400), amount
    missing = client.answer("POST", "/adminapi/v2/payments/add", {"user": "bob", "amount": "1"})
    assert (missing["error_code"], missing["error_message"]) == (404, "no user named 'bob'")
    assert panel.balance() == "11.75"


def test_users_list_and_add(panel: Panel) -> None:
    panel.customer("alice", "3")
    client = admin_key(panel)
    added = client.data("POST", "/adminapi/v2/users/add", {"username": "carol", "password": "correct horse 12"})
    assert added["username"] == "carol" and len(added["api_key"]) >= 22
    assert panel.call(added["api_key"], "balance") == {"balance": "0.00", "currency": "USD"}
    listed = client.data("GET", "/adminapi/v2/users")
    assert [(u["username"], u["balance"]["value"], u["status"]) for u in listed["list"]] == [
        ("alice", "3.00", "active"),
        ("carol", "0.00", "active"),
    ]
    duplicate = client.answer("POST", "/adminapi/v2/users/add", {"username": "carol"})
    assert (duplicate["error_code"], duplicate["error_message"]) == (409, "user 'carol' already exists")


def test_tickets_add_reply_and_list(panel: Panel) -> None:
    panel.customer("alice", "0")
    panel.run(lambda db: accounts.create_customer(db, "boss", admin=True))
    client = admin_key(panel)
    opened = client.data("POST", "/adminapi/v2/tickets/add", {"user": "alice", "subject": "Hi", "message": "Welcome"})
    ticket_id = opened["id"]
    client.data("POST", f"/adminapi/v2/tickets/{ticket_id}/reply", {"message": "Anything else?"})
    listed = client.data("GET", "/adminapi/v2/tickets", status="answered")["list"]
    assert [(t["id"], t["user"], t["subject"], t["status"]) for t in listed] == [(ticket_id, "alice", "Hi", "answered")]
    thread = panel.run(lambda db: tickets.ticket_for_operator(db, ticket_id))
    assert [(m.author, m.from_operator, m.body) for m in thread.messages] == [
        ("boss", True, "Welcome"),
        ("boss", True, "Anything else?"),
    ]
    empty = client.answer("POST", f"/adminapi/v2/tickets/{ticket_id}/reply", {"message": "  "})
    assert empty["error_code"] == 400


def test_refill_pull_hands_each_refill_out_once(panel: Panel) -> None:
    key = panel.customer("alice", "100")
    service = panel.service(name="Manual", rate="1.00", min=10, max=100000, refill=True)
    order_id = place(panel, key, service)
    panel.update_order(order_id, "Completed")
    refill_id = panel.call(key, "refill", order=order_id)["refill"]
    client = admin_key(panel)
    pulled = client.data("POST", "/adminapi/v2/refill/pull", {"limit": 10})["list"]
    assert [(r["id"], r["order_id"], r["status"]) for r in pulled] == [(int(refill_id), order_id, "in_progress")]
    assert client.data("POST", "/adminapi/v2/refill/pull", {})["list"] == []
    done = client.data("POST", "/adminapi/v2/refill/change-status", {"id": int(refill_id), "status": "completed"})
    assert done["status"] == "completed"
    assert panel.call(key, "refill_status", refill=refill_id) == {"status": "Completed"}


def test_cancel_requests_are_pulled_then_rejected_or_granted(panel: Panel) -> None:
    key = panel.customer("alice", "100")
    service = panel.service(name="Manual", rate="1.00", min=10, max=100000, cancel=True)
    kept, dropped = place(panel, key, service), place(panel, key, service)
    for order_id in (kept, dropped):
        panel.update_order(order_id, "In progress")
    assert panel.call(key, "cancel", orders=f"{kept},{dropped}") == [
        {"order": kept, "cancel": 1},
        {"order": dropped, "cancel": 1},
    ]
    client = admin_key(panel)
    pulled = client.data("POST", "/adminapi/v2/cancel/pull", {})["list"]
    assert [(o["id"], o["cancel_requested"]) for o in pulled] == [(kept, True), (dropped, True)]
    rejected = client.data("POST", "/adminapi/v2/cancel/reject", {"ids": [kept]})["orders"]
    assert rejected == [{"id": kept, "success": True, "message": "ok", "error_code": 0}]
    client.data("POST", "/adminapi/v2/orders/cancel", {"ids": [dropped]})
    assert [o["id"] for o in client.data("POST", "/adminapi/v2/cancel/pull", {})["list"]] == []
    assert panel.balance() == "99.00"  # 2 × 1.00 charged, the dropped one refunded


def test_request_cancel_does_what_the_customer_cancel_does(panel: Panel) -> None:
    key = panel.customer("alice", "100")
    service = panel.service(name="Manual", rate="1.00", min=10, max=100000, cancel=True)
    waiting = place(panel, key, service)
    client = admin_key(panel)
    assert client.data("POST", "/adminapi/v2/orders/request-cancel", {"ids": [waiting]})["orders"][0]["success"]
    assert client.data("GET", f"/adminapi/v2/orders/{waiting}")["status"] == "canceled"
    assert panel.balance() == "100.00"


def test_roles_limit_what_a_key_may_touch(panel: Panel) -> None:
    panel.customer("alice", "1")
    finance, support = admin_key(panel, "money", "finance"), admin_key(panel, "helpdesk", "support")
    assert finance.answer("POST", "/adminapi/v2/orders/pull", {"service_ids": [1], "limit": 1}) == {
        "data": None,
        "error_code": 403,
        "error_message": "The key's role (finance) does not allow changing orders",
    }
    assert support.answer("POST", "/adminapi/v2/orders/pull", {"service_ids": [1], "limit": 1})["error_code"] == 403
    assert support.answer("POST", "/adminapi/v2/payments/add", {"user": "alice", "amount": "1"})["error_code"] == 403
    assert support.answer("GET", "/adminapi/v2/payments")["error_message"] == (
        "The key's role (support) does not allow reading payments"
    )
    finance.data("POST", "/adminapi/v2/payments/add", {"user": "alice", "amount": "1"})
    support.data("GET", "/adminapi/v2/orders")
    finance.data("GET", "/adminapi/v2/orders")
    assert panel.balance() == "2.00"


def test_malformed_unknown_and_oversized_requests(panel: Panel) -> None:
    panel.customer("alice", "1")
    client = admin_key(panel)
    headers = {"X-Api-Key": client.key, "Content-Type": "application/json"}
    url = client.base_url + "/adminapi/v2/payments/add"
    broken = panel.http.post(url, content=b"{nope", headers=headers)
    assert broken.status_code == 200
    assert (
        broken.content == b'{"data":null,"error_code":400,"error_message":"Malformed request: body is not valid JSON"}'
    )
    listed = panel.http.post(url, content=b"[1]", headers=headers).json()
    assert listed["error_code"] == 400
    huge = panel.http.post(url, content=b'{"memo": "' + b"x" * 5000 + b'"}', headers=headers)
    assert huge.status_code == 413
    assert huge.content == b'{"data":null,"error_code":413,"error_message":"Request body too large"}'
    unknown = client.answer("GET", "/adminapi/v2/nothing/here")
    assert unknown == {"data": None, "error_code": 404, "error_message": "Unknown endpoint"}
    assert panel.balance() == "1.00"


def test_the_rate_limit_answers_in_the_envelope(database_url: str, start_server: Callable[..., LiveServer]) -> None:
    with admin_panel(database_url, start_server, admin_api_rate_limit="3/day") as panel:
        client, other = admin_key(panel, "busy"), admin_key(panel, "calm")
        for _ in range(3):
            client.data("GET", "/adminapi/v2/users")
        limited = client.request("GET", "/adminapi/v2/users")
        assert limited.status_code == 429
        assert limited.headers["content-type"] == JSON_TYPE
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.content == b'{"data":null,"error_code":429,"error_message":"Too many requests"}'
        other.data("GET", "/adminapi/v2/users")  # counted per key


def test_v1_actions_run_the_same_use_cases(panel: Panel) -> None:
    key = panel.customer("alice", "10")
    service = panel.service(name="Manual", rate="1.00", min=10, max=100000)
    first, second, third = (place(panel, key, service) for _ in range(3))  # 1.00 each
    client = admin_key(panel)
    pulled = client.v1("getOrders", type=str(service), limit="2")
    assert pulled["status"] == "success"
    assert [o["id"] for o in pulled["orders"]] == [first, second]
    by_id = client.v1("getOrders-by-id", orders=f"{third},{first}")
    assert [o["id"] for o in by_id["orders"]] == [third, first]
    assert client.v1("setInprogress", id=str(first), start_count="10") == {"status": "success"}
    assert client.v1("setCompleted", id=str(first)) == {"status": "success"}
    assert client.v1("setPartial", id=str(second), remains="250") == {"status": "success"}  # refunds 0.25
    assert client.v1("setPartial", id=str(second), remains="250") == {"status": "success"}  # not again
    assert client.v1("setCanceled", id=str(third)) == {"status": "success"}  # refunds 1.00
    assert panel.balance() == "8.25"
    updates = json.dumps([{"id": first, "status": "completed"}, {"id": 777, "status": "completed"}])
    assert client.v1("updateOrders", orders=updates) == {
        "status": "success",
        "orders": [{"id": first, "status": "success"}, {"id": 777, "error": "no order 777"}],
    }
    assert client.v1("addPayment", username="alice", amount="5", memo="cash") == {
        "status": "success",
        "balance": "13.25",
    }
    assert client.v1("deductPayment", username="alice", amount="3.25") == {"status": "success", "balance": "10.00"}
    refused = client.v1("deductPayment", username="alice", amount="11")
    assert refused == {
        "status": "error",
        "error": "correction would take alice's balance below zero",
        "error_code": 409,
    }
    user = client.v1("getUser", username="alice")["user"]
    assert (user["username"], user["balance"]) == ("alice", {"value": "10.00", "currency_code": "USD"})
    panel.run(lambda db: accounts.create_customer(db, "boss", admin=True))
    ticket = client.v1("addTicket", username="alice", subject="Order", message="Done")
    assert ticket["status"] == "success" and isinstance(ticket["ticket"], int)
    assert client.v1("fly") == {"status": "error", "error": "Incorrect action", "error_code": 404}
    client.key = "wrong"
    assert client.v1("getUser", username="alice") == {"status": "error", "error": "Invalid API key", "error_code": 401}
    assert panel.balance() == "10.00"


def test_v1_reads_the_key_from_the_query_string_too(panel: Panel) -> None:
    panel.customer("alice", "1")
    client = admin_key(panel)
    response = panel.http.get(
        client.base_url + "/adminapi/v1", params={"key": client.key, "action": "getUser", "username": "alice"}
    )
    answer: dict[str, Any] = response.json()
    assert answer["status"] == "success"
