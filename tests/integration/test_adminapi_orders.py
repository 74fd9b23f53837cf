"""The admin API's orders over HTTP, on both back ends: shapes, pulls, updates and the money they move."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from smmpanel.domain.catalog import ServiceType
from smmpanel.usecases import accounts, admin_keys, audit, fulfilment_api
from tests.support.adminapi import AdminClient, admin_key, admin_panel
from tests.support.panel import Panel
from tests.support.server import LiveServer

LINK = "https://x.test/post"


@pytest.fixture
def panel(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Panel]:
    with admin_panel(database_url, start_server) as driver:
        yield driver


def place(panel: Panel, key: str, service: int, quantity: int = 1000, **extra: Any) -> int:
    answer = panel.call(key, "add", service=service, link=LINK, quantity=quantity, **extra)
    assert isinstance(answer.get("order"), int), answer
    return int(answer["order"])


@pytest.fixture
def shop(panel: Panel) -> tuple[str, int]:
    """A customer with 100.00 and a manual service at 0.27819 per 1000."""
    return panel.customer("alice", "100"), panel.service(name="Manual likes", rate="0.27819", min=10, max=100000)


def test_no_key_and_a_wrong_key_get_the_envelope_error_byte_for_byte(panel: Panel) -> None:
    client = AdminClient(panel, "")
    expected = b'{"data":null,"error_code":401,"error_message":"Invalid API key"}'
    for key in ("", "not-a-key"):
        client.key = key
        for method, path in (("GET", "/adminapi/v2/orders"), ("POST", "/adminapi/v2/orders/pull")):
            response = client.request(method, path, {} if method == "POST" else None)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json; charset=utf-8"
            assert response.content == expected


def test_an_order_object_is_shaped_exactly(panel: Panel, shop: tuple[str, int]) -> None:
    key, service = shop
    order_id = place(panel, key, service, 1000)
    client = admin_key(panel)
    response = client.request("GET", f"/adminapi/v2/orders/{order_id}")
    created = re.search(rb'"created":"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)"', response.content)
    assert created is not None
    expected = {
        "data": {
            "id": order_id,
            "user": "alice",
            "service_id": service,
            "service_name": "Manual likes",
            "service_type": "Default",
            "link": LINK,
            "quantity": 1000,
            "start_count": 0,
            "remains": 1000,
            "status": "pending",
            "charge": {"value": "0.27819", "currency_code": "USD"},
            "created": created.group(1).decode(),
            "mode": "manual",
            "provider": None,
            "external_id": None,
            "cancel_requested": False,
            "access": {
                "refill": False,
                "set_partial": True,
                "cancel_and_refund": True,
                "resend_order": False,
                "set_start_count": True,
                "set_remains": True,
            },
        },
        "error_code": 0,
        "error_message": "",
    }
    assert response.content == orjson.dumps(expected)


def test_type_extras_ride_on_the_order(panel: Panel) -> None:
    key = panel.customer("alice", "100")
    service = panel.service(name="Comments", type=ServiceType.CUSTOM_COMMENTS, rate="1.00", min=1, max=100)
    answer = panel.call(key, "add", service=service, link=LINK, comments="nice\nsuper")
    found = admin_key(panel).data("GET", f"/adminapi/v2/orders/{answer['order']}")
    assert (found["comments"], found["quantity"], found["charge"]["value"]) == ("nice\nsuper", 2, "0.002")


def test_listing_filters_and_counts(panel: Panel, shop: tuple[str, int]) -> None:
    key, service = shop
    other = panel.service(name="Other", rate="1.00", min=10, max=100000)
    first, second = place(panel, key, service), place(panel, key, service)
    third = place(panel, key, other)
    panel.update_order(second, "Completed")
    client = admin_key(panel)
    listed = client.answer("GET", "/adminapi/v2/orders", limit=2)
    assert [item["id"] for item in listed["data"]["list"]] == [third, second]
    assert listed["data"]["count"] == 3
    assert listed["pagination"]["next_page_href"].endswith("limit=2&offset=2")
    last = client.answer("GET", "/adminapi/v2/orders", limit=2, offset=2)
    assert ([item["id"] for item in last["data"]["list"]], last["pagination"]["next_page_href"]) == ([first], None)

    def ids(**query: Any) -> list[int]:
        return [item["id"] for item in client.data("GET", "/adminapi/v2/orders", **query)["list"]]

    assert ids(order_status="completed") == [second]
    assert ids(order_status="pending,completed", sort="date-asc") == [first, second, third]
    assert ids(service_ids=f"{other}") == [third]
    assert ids(ids=f"{first},{third}") == [third, first]
    assert ids(user="alice", created_from="2000-01-01") == [third, second, first]
    assert ids(user="nobody") == []
    assert ids(created_to="2000-01-01 00:00:00") == []
    refused = client.answer("GET", "/adminapi/v2/orders", order_status="lost")
    assert (refused["data"], refused["error_code"]) == (None, 400)
    assert refused["error_message"].startswith("Incorrect order_status: expected one of pending, in_progress")


def _pull(client: AdminClient, service: int, limit: int) -> list[int]:
    return [
        item["id"]
        for item in client.data("POST", "/adminapi/v2/orders/pull", {"service_ids": [service], "limit": limit})["list"]
    ]


def test_a_pulled_order_goes_to_one_caller_and_shows_who_works_on_it(panel: Panel, shop: tuple[str, int]) -> None:
    key, service = shop
    orders = [place(panel, key, service) for _ in range(3)]
    forwarded_elsewhere = panel.service(name="Other manual", rate="1.00", min=10, max=100000)
    place(panel, key, forwarded_elsewhere)
    first, second = admin_key(panel, "first"), admin_key(panel, "second")
    pulled = first.data("POST", "/adminapi/v2/orders/pull", {"service_ids": [service], "limit": 2})["list"]
    assert [item["id"] for item in pulled] == orders[:2]
    assert {item["status"] for item in pulled} == {"pending"}
    assert _pull(second, service, 10) == orders[2:]
    assert _pull(first, service, 10) == []
    claims = panel.run(lambda db: fulfilment_api.orders_by_id(db, orders))
    assert [claims[order_id].claimed_by for order_id in orders] == ["first", "first", "second"]


def test_two_clients_pulling_at_once_never_receive_the_same_order(panel: Panel, shop: tuple[str, int]) -> None:
    key, service = shop
    placed = {place(panel, key, service, 10) for _ in range(40)}
    clients = [admin_key(panel, f"worker-{n}") for n in range(2)]
    received: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def work(n: int) -> None:
        start.wait()
        while batch := _pull(clients[n], service, 3):
            received[n].extend(batch)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not set(received[0]) & set(received[1])
    assert sorted(received[0] + received[1]) == sorted(placed)


def test_pull_work_complete_moves_money_as_the_operator_does(panel: Panel, shop: tuple[str, int]) -> None:
    key, service = shop
    order_id = place(panel, key, service, 1000)
    client = admin_key(panel)
    assert _pull(client, service, 1) == [order_id]
    started = {"orders": [{"id": order_id, "status": "in_progress", "start_count": 350}]}
    assert client.data("POST", "/adminapi/v2/orders/update", started) == {
        "orders": [{"id": order_id, "success": True, "message": "ok", "error_code": 0}]
    }
    done = {"orders": [{"id": order_id, "status": "completed"}]}
    client.data("POST", "/adminapi/v2/orders/update", done)
    found = client.data("GET", f"/adminapi/v2/orders/{order_id}")
    assert (found["status"], found["start_count"], found["remains"]) == ("completed", 350, 0)
    assert panel.balance() == "99.72181"
    entries = panel.run(lambda db: audit.audit_page(db)).items
    assert {(entry.actor, entry.action) for entry in entries} == {("admin-api:bot", "order.update")}


def test_partial_sent_twice_refunds_exactly_once(panel: Panel, shop: tuple[str, int]) -> None:
    key, service = shop
    order_id = place(panel, key, service, 1000)  # 0.27819
    client = admin_key(panel)
    _pull(client, service, 1)
    partial = {"orders": [{"id": order_id, "status": "partial", "remains": 333, "reason": "ran out"}]}
    for _ in range(2):
        result = client.data("POST", "/adminapi/v2/orders/update", partial)["orders"][0]
        assert (result["success"], result["error_code"]) == (True, 0)
    # refund = 0.27819 × 333 / 1000 = 0.09263727, rounded down to 0.09263
    assert panel.balance() == "99.81444"
    refunds = [e for e in panel.run(lambda db: accounts.ledger_of(db, "alice", 100))[1] if e.kind == "refund"]
    assert [e.amount for e in refunds] == [9263]
    again = client.data("POST", f"/adminapi/v2/orders/{order_id}/set-partial", {"remains": 333})
    assert again["status"] == "partial"
    assert panel.balance() == "99.81444"


def test_cancel_refunds_once_and_per_order_errors_are_answered(panel: Panel, shop: tuple[str, int]) -> None:
    key, service = shop
    order_id = place(panel, key, service, 1000)
    client = admin_key(panel)
    body = {"ids": [order_id, order_id, 999999]}
    assert client.data("POST", "/adminapi/v2/orders/cancel", body) == {
        "orders": [
            {"id": order_id, "success": True, "message": "ok", "error_code": 0},
            {"id": 999999, "success": False, "message": "no order 999999", "error_code": 404},
        ]
    }
    again = client.data("POST", "/adminapi/v2/orders/cancel", {"ids": [order_id]})["orders"][0]
    assert (again["success"], again["error_code"]) == (True, 0)  # Canceled again: already so, nothing moves
    assert panel.balance() == "100.00"
    wrong = client.data("POST", "/adminapi/v2/orders/update", {"orders": [{"id": order_id, "status": "completed"}]})
    assert wrong["orders"] == [
        {"id": order_id, "success": False, "message": "Order is already Canceled", "error_code": 409}
    ]


def test_single_actions(panel: Panel, shop: tuple[str, int]) -> None:
    key, service = shop
    order_id = place(panel, key, service, 1000)
    client = admin_key(panel)
    moved = client.data("POST", f"/adminapi/v2/orders/{order_id}/edit-link", {"link": "https://x.test/other"})
    assert moved["link"] == "https://x.test/other"
    started = client.data("POST", f"/adminapi/v2/orders/{order_id}/change-status", {"status": "In progress"})
    assert started["status"] == "in_progress"
    refused = client.answer("POST", f"/adminapi/v2/orders/{order_id}/change-status", {"status": "done"})
    assert (refused["data"], refused["error_code"]) == (None, 400)
    missing = client.answer("GET", "/adminapi/v2/orders/424242")
    assert missing == {"data": None, "error_code": 404, "error_message": "no order 424242"}


def test_release_and_a_lapsed_claim_hand_the_order_out_again(
    database_url: str, start_server: Callable[..., LiveServer]
) -> None:
    with admin_panel(database_url, start_server, admin_api_lease_seconds=1) as panel:
        key = panel.customer("alice", "100")
        service = panel.service(name="Manual", rate="1.00", min=10, max=100000)
        order_id = place(panel, key, service)
        first, second = admin_key(panel, "first"), admin_key(panel, "second")
        assert _pull(first, service, 5) == [order_id]
        first.data("POST", "/adminapi/v2/orders/resend", {"ids": [order_id]})  # released at once
        assert _pull(second, service, 5) == [order_id]
        deadline = time.monotonic() + 60
        while not (pulled := _pull(first, service, 5)) and time.monotonic() < deadline:
            time.sleep(0.2)  # until second's 1 s lease lapses
        assert pulled == [order_id]


def test_a_revoked_key_gets_the_error_and_changes_nothing(panel: Panel, shop: tuple[str, int]) -> None:
    key, service = shop
    order_id = place(panel, key, service, 1000)
    client = admin_key(panel)
    panel.run(lambda db: admin_keys.revoke_key(db, "bot"))
    for method, path, body in (
        ("POST", "/adminapi/v2/orders/update", {"orders": [{"id": order_id, "status": "partial", "remains": 500}]}),
        ("POST", "/adminapi/v2/orders/cancel", {"ids": [order_id]}),
        ("POST", "/adminapi/v2/payments/add", {"user": "alice", "amount": "5"}),
        ("POST", "/adminapi/v2/orders/pull", {"limit": 5}),
    ):
        assert client.answer(method, path, body) == {
            "data": None,
            "error_code": 401,
            "error_message": "Invalid API key",
        }
    assert panel.balance() == "99.72181"
    found = admin_key(panel, "fresh").data("GET", f"/adminapi/v2/orders/{order_id}")
    assert (found["status"], found["remains"]) == ("pending", 1000)
