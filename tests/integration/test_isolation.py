"""One customer can learn nothing of, and change nothing in, another customer's orders and refills.

Mallory asks about ids before Alice's orders and refills exist, and again once they are
Alice's: both answers must be the same bytes, and Alice's side must not have moved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smmpanel.domain.refills import RefillStatus
from smmpanel.usecases import orders, refills
from tests.support.panel import Panel
from tests.support.server import LiveServer

LINK = "https://x.test/post"

PROBES = [
    pytest.param("status", {"order": "1"}, id="status-completed"),
    pytest.param("status", {"order": "2"}, id="status-pending"),
    pytest.param("status", {"orders": "1,2,3,4"}, id="status-many"),
    pytest.param("refill", {"order": "1"}, id="refill-single"),
    pytest.param("refill", {"order": "4"}, id="refill-single-without-open-refill"),
    pytest.param("refill", {"orders": "1,2,3,4"}, id="refill-many"),
    pytest.param("refill_status", {"refill": "1"}, id="refill-status-single"),
    pytest.param("refill_status", {"refills": "1,2"}, id="refill-status-many"),
    pytest.param("cancel", {"order": "2"}, id="cancel-single-pending"),
    pytest.param("cancel", {"order": "3"}, id="cancel-single-in-progress"),
    pytest.param("cancel", {"orders": "1,2,3,4"}, id="cancel-many"),
]


@pytest.fixture(params=["perfectpanel", "viralhub"])
def styled(
    request: pytest.FixtureRequest, database_url: str, start_server: Callable[..., LiveServer]
) -> Iterator[Panel]:
    """A live panel in each of the two response styles."""
    driver = Panel(database_url, start_server(api_style=request.param).api_url)
    yield driver
    driver.close()


def raw(panel: Panel, key: str, action: str, params: dict[str, str]) -> tuple[int, str, bytes]:
    """Everything a client sees of an answer."""
    response = panel.post(key=key, action=action, **params)
    return response.status_code, response.headers["content-type"], response.content


def add(panel: Panel, key: str, service: int, **params: Any) -> int:
    return int(panel.call(key, "add", service=service, link=LINK, **params)["order"])


def give_alice_orders_and_refills(panel: Panel, alice: str) -> None:
    """Order 1 Completed with open refill 1, 2 Pending, 3 In progress, 4 Partial whose refill 2 is Completed."""
    service = panel.service(rate="0.90", refill=True, cancel=True)
    ids = [add(panel, alice, service, quantity="1000") for _ in range(4)]
    assert ids == [1, 2, 3, 4]
    panel.update_order(1, "Completed", start_count=100)
    panel.update_order(3, "In progress", start_count=50, remains=400)
    panel.update_order(4, "Partial", start_count=10, remains=157)
    assert panel.call(alice, "refill", order=1)["refill"] in ("1", 1)
    assert panel.call(alice, "refill", order=4)["refill"] in ("2", 2)
    panel.run(lambda db: refills.update_refill(db, 2, RefillStatus.COMPLETED))


def alice_state(panel: Panel, alice: str) -> object:
    """Alice's balance, orders, refills and ledger, as she and the operator see them."""
    stored = panel.run(lambda db: orders.list_orders(db, username="alice", status=None, limit=100))
    refill_rows = panel.run(lambda db: refills.list_refills(db, status=None, limit=100))
    return (
        panel.balance("alice"),
        raw(panel, alice, "status", {"orders": "1,2,3,4"}),
        raw(panel, alice, "refill_status", {"refills": "1,2"}),
        [(o.status, o.remains, o.charge, o.refunded, o.cancel_requested, o.finished_at) for o, _ in stored],
        [(r.id, r.order_id, r.user_id, r.status) for r, _ in refill_rows],
        panel.ledger_ok(),
    )


def mallory_state(panel: Panel) -> object:
    return panel.balance("mallory"), panel.run(
        lambda db: orders.list_orders(db, username="mallory", status=None, limit=9)
    )


@pytest.mark.parametrize(("action", "params"), PROBES)
def test_foreign_ids_are_answered_as_ids_that_never_existed(styled: Panel, action: str, params: dict[str, str]) -> None:
    panel = styled
    alice = panel.customer("alice", "10")
    mallory = panel.customer("mallory", "10")
    never_existed = raw(panel, mallory, action, params)
    give_alice_orders_and_refills(panel, alice)
    alice_before = alice_state(panel, alice)
    assert raw(panel, mallory, action, params) == never_existed
    assert alice_state(panel, alice) == alice_before
    assert mallory_state(panel) == ("10.00", [])
    # The probe really names Alice's things: she herself gets a different answer.
    assert raw(panel, alice, action, params) != never_existed


def test_foreign_ids_are_answered_like_a_never_used_id(styled: Panel) -> None:
    panel = styled
    alice = panel.customer("alice", "10")
    mallory = panel.customer("mallory", "10")
    give_alice_orders_and_refills(panel, alice)
    for action, name in [("status", "order"), ("refill", "order"), ("refill_status", "refill"), ("cancel", "order")]:
        foreign = raw(panel, mallory, action, {name: "1"})
        unknown = raw(panel, mallory, action, {name: "999"})
        assert foreign == (unknown[0], unknown[1], unknown[2].replace(b"999", b"1")), action


def test_mixed_list_answers_own_orders_and_hides_foreign_ones(styled: Panel) -> None:
    panel = styled
    alice = panel.customer("alice", "10")
    mallory = panel.customer("mallory", "10")
    give_alice_orders_and_refills(panel, alice)
    own = add(panel, mallory, panel.service(rate="0.50"), quantity="1000")
    alice_before = alice_state(panel, alice)
    answer = panel.call(mallory, "status", orders=f"2,{own}")
    assert answer["2"] == {"error": "Incorrect order ID"}
    assert answer[str(own)]["status"] == "Pending"
    canceled = panel.call(mallory, "cancel", orders=f"2,{own}")
    assert canceled[0] == {"order": 2, "cancel": {"error": "Incorrect order ID"}}
    assert canceled[1] in ({"order": own, "cancel": 1}, {"order": own, "cancel": {"status": "success"}})
    assert panel.call(mallory, "status", order=own)["status"] == "Canceled"
    assert panel.balance("mallory") == "10.00"
    assert alice_state(panel, alice) == alice_before


def test_a_foreign_refill_request_creates_no_refill(styled: Panel) -> None:
    panel = styled
    alice = panel.customer("alice", "10")
    mallory = panel.customer("mallory", "10")
    give_alice_orders_and_refills(panel, alice)
    panel.run(lambda db: refills.update_refill(db, 1, RefillStatus.COMPLETED))  # order 1 could be refilled again
    before = panel.run(lambda db: refills.list_refills(db, status=None, limit=100))
    assert panel.call(mallory, "refill", order=1) == {"error": "Incorrect order ID"}
    assert panel.run(lambda db: refills.list_refills(db, status=None, limit=100)) == before
