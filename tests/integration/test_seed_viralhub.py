"""Replay every example of the ViralHub API document (seeds/000_770a390f42f89212.txt).

Each request of the document is sent to a live server in the ``viralhub`` style, and
the answer must have the shape of the document's example response: the same keys in
the same order and the same JSON types. Where the example's figures depend on data,
the data is set up so that the server must answer the document's exact figures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.refills import RefillStatus
from smmpanel.usecases import orders, refills
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.shapes import assert_same_shape, example, shape_differences

# The example responses, copied verbatim from the document.
AUTH_ERROR = example('{ "error": "Invalid API key" }')
SERVICES = example(
    """[
  {
    "service": 1,
    "name": "Telegram Channel Members",
    "type": "Default",
    "category": "Telegram",
    "rate": "0.80",
    "min": 100,
    "max": 500000,
    "refill": true,
    "cancel": false,
    "description": "Real-looking members, no password needed, fast delivery."
  },
  {
    "service": 2,
    "name": "Telegram Channel Members — HQ",
    "type": "Default",
    "category": "Telegram",
    "rate": "1.20",
    "min": 100,
    "max": 100000,
    "refill": true,
    "cancel": false,
    "description": "High-quality members, slower but more stable."
  }
]"""
)
ADD = example('{ "order": 23501 }')
ADD_ERROR = example('{ "error": "Incorrect quantity" }')
STATUS = example(
    """{
  "charge":    "0.80",
  "start_count": 4234,
  "status":    "In progress",
  "remains":   300,
  "currency":  "USD"
}"""
)
MULTI_STATUS = example(
    """{
  "23501": { "charge": "0.80", "start_count": 4234, "status": "Completed", "remains": 0,   "currency": "USD" },
  "23502": { "charge": "1.20", "start_count": 100,  "status": "In progress","remains": 450, "currency": "USD" },
  "23503": { "charge": "0.25", "start_count": 880,  "status": "Pending",    "remains": 200, "currency": "USD" }
}"""
)
BALANCE = example('{ "balance": "47.50", "currency": "USD" }')
REFILL = example('{ "refill": 1178 }')
REFILL_STATUS = example('{ "status": "Completed" }')
CANCEL = example(
    """[
  { "order": 23502, "cancel": { "status": "success" } },
  { "order": 23503, "cancel": { "status": "success" } }
]"""
)
CANCEL_ERROR = example('{ "error": "Cancel not available for this service" }')
SUBSCRIPTIONS = example(
    """[
  {
    "id": 99,
    "service": 3,
    "link": "https://t.me/c/123456789/42",
    "quantity": 5000,
    "runs": 30,
    "interval": 1440,
    "remaining_runs": 22,
    "status": "Active",
    "created_at": "2026-04-01T08:00:00Z"
  }
]"""
)


@pytest.fixture
def viralhub(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Panel]:
    server = start_server(api_style="viralhub")
    driver = Panel(database_url, server.api_url)
    yield driver
    driver.close()


def telegram_services(panel: Panel) -> None:
    """Services 1 and 2 exactly as the document lists them."""
    for item in SERVICES:
        created = panel.service(
            name=item["name"],
            category=item["category"],
            rate=item["rate"],
            min=item["min"],
            max=item["max"],
            refill=item["refill"],
            cancel=item["cancel"],
            description=item["description"],
        )
        assert created == item["service"]


def test_shape_helper_tells_types_order_and_lengths_apart() -> None:
    live = {"charge": "0.27", "start_count": 0, "status": "Pending", "remains": 10, "currency": "EUR"}
    assert shape_differences(STATUS, live) == []  # values may differ, the shape may not
    assert shape_differences({"min": 100}, {"min": "100"})
    assert shape_differences({"order": 1}, {"order": 1.0})
    assert shape_differences({"refill": True}, {"refill": 1})
    assert shape_differences({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert shape_differences([{"a": 1}], [{"a": 1}, {"a": 2}])
    assert shape_differences({"cancel": {"status": "success"}}, {"cancel": 1})
    with pytest.raises(AssertionError):
        assert_same_shape(CANCEL, [{"order": 1, "cancel": 1}, {"order": 2, "cancel": 1}])


def test_authentication_error(viralhub: Panel) -> None:
    viralhub.customer()
    for key in ("YOUR_API_KEY", ""):
        answer = viralhub.call(key, "balance")
        assert_same_shape(AUTH_ERROR, answer)
        assert answer == AUTH_ERROR
    response = viralhub.http.post(viralhub.api_url or "", data={"action": "balance"})
    assert response.status_code == 200
    assert response.json() == AUTH_ERROR


def test_service_list(viralhub: Panel) -> None:
    key = viralhub.customer()
    telegram_services(viralhub)
    answer = viralhub.call(key, "services")
    assert_same_shape(SERVICES, answer)
    assert answer == SERVICES


def test_add_order(viralhub: Panel) -> None:
    key = viralhub.customer(balance="10")
    telegram_services(viralhub)
    # curl -d "key=YOUR_API_KEY&action=add&service=1&link=https://t.me/mychannel&quantity=1000"
    answer = viralhub.call(key, "add", service=1, link="https://t.me/mychannel", quantity=1000)
    assert_same_shape(ADD, answer)
    assert answer == {"order": 1}
    assert viralhub.balance() == "9.20"  # "Funds are deducted from your account balance immediately"
    # the same order as a JSON body, numbers as numbers
    body = {"key": key, "action": "add", "service": 1, "link": "https://t.me/mychannel", "quantity": 1000}
    response = viralhub.http.post(viralhub.api_url or "", json=body)
    assert response.status_code == 200
    assert_same_shape(ADD, response.json())
    assert response.json() == {"order": 2}
    assert viralhub.balance() == "8.40"
    assert viralhub.ledger_ok()


@pytest.mark.parametrize("quantity", [None, "", "1e3", "12.5", "many"])
def test_add_order_error(viralhub: Panel, quantity: str | None) -> None:
    key = viralhub.customer(balance="10")
    telegram_services(viralhub)
    params = {"service": 1, "link": "https://t.me/mychannel"}
    if quantity is not None:
        params["quantity"] = quantity
    answer = viralhub.call(key, "add", **params)
    assert_same_shape(ADD_ERROR, answer)
    assert answer == ADD_ERROR
    assert viralhub.balance() == "10.00"
    assert viralhub.call(key, "status", order=1) == {"error": "Incorrect order ID"}


def test_order_status(viralhub: Panel) -> None:
    key = viralhub.customer()
    telegram_services(viralhub)
    order = viralhub.call(key, "add", service=1, link="https://t.me/mychannel", quantity=1000)["order"]
    viralhub.update_order(order, "In progress", start_count=4234, remains=300)
    # curl -d "key=YOUR_API_KEY&action=status&order=23501"
    answer = viralhub.call(key, "status", order=order)
    assert_same_shape(STATUS, answer)
    assert answer == STATUS


def test_multiple_orders_status(viralhub: Panel) -> None:
    key = viralhub.customer()
    telegram_services(viralhub)
    post_views = viralhub.service(name="Telegram Post Views", category="Telegram", rate="0.25", min=100, max=100000)
    first = viralhub.call(key, "add", service=1, link="https://t.me/a", quantity=1000)["order"]
    second = viralhub.call(key, "add", service=2, link="https://t.me/b", quantity=1000)["order"]
    third = viralhub.call(key, "add", service=post_views, link="https://t.me/c/1/2", quantity=1000)["order"]
    viralhub.update_order(first, "Completed", start_count=4234)
    viralhub.update_order(second, "In progress", start_count=100, remains=450)
    viralhub.update_order(third, start_count=880, remains=200)
    # curl -d "key=YOUR_API_KEY&action=status&orders=23501,23502,23503"
    answer = viralhub.call(key, "status", orders=f"{first},{second},{third}")
    ours = dict(zip([str(first), str(second), str(third)], MULTI_STATUS.values(), strict=True))
    assert_same_shape(ours, answer)
    assert answer == ours


def test_balance(viralhub: Panel) -> None:
    key = viralhub.customer(balance="48.30")
    telegram_services(viralhub)
    viralhub.call(key, "add", service=1, link="https://t.me/mychannel", quantity=1000)
    # curl -d "key=YOUR_API_KEY&action=balance"
    answer = viralhub.call(key, "balance")
    assert_same_shape(BALANCE, answer)
    assert answer == BALANCE


def test_balance_with_a_json_body(viralhub: Panel) -> None:
    """ "Content-Type: application/x-www-form-urlencoded or application/json"."""
    key = viralhub.customer(balance="47.5")
    response = viralhub.http.post(viralhub.api_url or "", json={"key": key, "action": "balance"})
    assert response.status_code == 200
    assert_same_shape(BALANCE, response.json())
    assert response.json() == BALANCE


def completed_order(panel: Panel, key: str) -> int:
    order: int = panel.call(key, "add", service=1, link="https://t.me/mychannel", quantity=1000)["order"]
    panel.update_order(order, "Completed", start_count=4234)
    return order


def test_refill_order(viralhub: Panel) -> None:
    key = viralhub.customer()
    telegram_services(viralhub)
    order = completed_order(viralhub, key)
    # curl -d "key=YOUR_API_KEY&action=refill&order=23501"
    answer = viralhub.call(key, "refill", order=order)
    assert_same_shape(REFILL, answer)
    assert answer == {"refill": 1}


def test_refill_status(viralhub: Panel) -> None:
    key = viralhub.customer()
    telegram_services(viralhub)
    refill = viralhub.call(key, "refill", order=completed_order(viralhub, key))["refill"]
    pending = viralhub.call(key, "refill_status", refill=refill)
    assert_same_shape(REFILL_STATUS, pending)
    assert pending == {"status": "Pending"}
    viralhub.run(lambda db: refills.update_refill(db, refill, RefillStatus.COMPLETED))
    # curl -d "key=YOUR_API_KEY&action=refill_status&refill=1178"
    answer = viralhub.call(key, "refill_status", refill=refill)
    assert_same_shape(REFILL_STATUS, answer)
    assert answer == REFILL_STATUS


def test_cancel_orders(viralhub: Panel) -> None:
    """As in the document: 23502 is In progress, 23503 still Pending (see the multiple status example)."""
    key = viralhub.customer(balance="10")
    service = viralhub.service(name="Telegram Post Views", category="Telegram", rate="0.80", min=100, max=100000)
    started = viralhub.call(key, "add", service=service, link="https://t.me/a", quantity=1000)["order"]
    waiting = viralhub.call(key, "add", service=service, link="https://t.me/b", quantity=500)["order"]
    viralhub.update_order(started, "In progress", start_count=100, remains=450)
    assert viralhub.balance() == "8.80"
    # curl -d "key=YOUR_API_KEY&action=cancel&orders=23502,23503"
    answer = viralhub.call(key, "cancel", orders=f"{started},{waiting}")
    assert_same_shape(CANCEL, answer)
    assert answer == [
        {"order": started, "cancel": {"status": "success"}},
        {"order": waiting, "cancel": {"status": "success"}},
    ]
    assert viralhub.call(key, "status", order=waiting)["status"] == "Canceled"
    assert viralhub.balance() == "9.20"  # the Pending order at once, in full
    # "A partial refund is issued for the unfulfilled portion": 0.80 × 450 / 1000 once delivery stops
    viralhub.update_order(started, "Partial")
    assert viralhub.call(key, "status", order=started)["remains"] == 450
    assert viralhub.balance() == "9.56"
    assert viralhub.ledger_ok()


def test_cancel_not_supported(viralhub: Panel) -> None:
    """The contract puts the document's error into the answer's item: the answer is always a list."""
    key = viralhub.customer(balance="10")
    telegram_services(viralhub)  # "cancel": false
    order = viralhub.call(key, "add", service=1, link="https://t.me/mychannel", quantity=1000)["order"]
    answer = viralhub.call(key, "cancel", orders=str(order))
    assert_same_shape([{"order": 23502, "cancel": CANCEL_ERROR}], answer)
    assert answer == [{"order": order, "cancel": CANCEL_ERROR}]
    assert viralhub.call(key, "status", order=order)["status"] == "Pending"
    assert viralhub.balance() == "9.20"


def test_subscriptions(viralhub: Panel) -> None:
    key = viralhub.customer(balance="100")
    telegram_services(viralhub)
    post_views = viralhub.service(name="Telegram Post Views", category="Telegram", rate="0.25", min=100, max=100000)
    assert post_views == 3
    for number in range(98):  # the document's subscription is order 99
        viralhub.call(key, "add", service=1, link=f"https://t.me/channel{number}", quantity=100)
    before = datetime.now(UTC).replace(microsecond=0)
    assert viralhub.call(
        key, "add", service=post_views, link="https://t.me/c/123456789/42", quantity=5000, runs=30, interval=1440
    ) == {"order": 99}
    after = datetime.now(UTC)
    # curl -d "key=YOUR_API_KEY&action=subscriptions"
    answer = viralhub.call(key, "subscriptions")
    assert_same_shape(SUBSCRIPTIONS, answer)
    (documented,) = SUBSCRIPTIONS
    (item,) = answer
    assert {name: value for name, value in item.items() if name not in ("remaining_runs", "created_at")} == {
        name: value for name, value in documented.items() if name not in ("remaining_runs", "created_at")
    }
    assert item["remaining_runs"] == 30  # nothing has run yet
    assert item["created_at"].endswith("Z")
    created = datetime.fromisoformat(item["created_at"][:-1]).replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= created <= after
    # 98 × 0.08 for the plain orders, 0.25 × 5000 × 30 / 1000 for the drip-feed, all charged up front
    assert viralhub.balance() == "54.66"
    assert viralhub.ledger_ok()


def test_subscriptions_lists_subscriptions_orders_with_their_posts_beside_drip_feeds(viralhub: Panel) -> None:
    """A Subscriptions-type order is a schedule of posts: its posts are the runs, its delay the interval,
    its most per post the quantity; the same keys, order and JSON types as the document's example."""
    key = viralhub.customer(balance="100")
    telegram_services(viralhub)
    views = viralhub.service(name="Telegram Post Views", category="Telegram", rate="0.25", min=100, max=100000)
    auto = viralhub.service(
        name="Auto views", category="Telegram", type=ServiceType.SUBSCRIPTIONS, rate="0.50", min=100, max=10000
    )
    drip = viralhub.call(key, "add", service=views, link="https://t.me/c/1/2", quantity=5000, runs=30, interval=1440)
    params = {"username": "channel_one", "min": 200, "max": 300, "delay": 30, "posts": 5, "old_posts": 2}
    subscribed = viralhub.call(key, "add", service=auto, **params)["order"]
    unlimited = viralhub.call(key, "add", service=auto, username="channel_two", min=100, max=100, delay=0)["order"]
    for quantity in (250, 300, 200):  # three posts delivered: 375 charged
        viralhub.run(lambda db, q=quantity: orders.record_subscription_post(db, subscribed, q))
    answer = viralhub.call(key, "subscriptions")
    stamps = [item.pop("created_at") for item in answer]
    assert [list(item) for item in answer] == [[n for n in SUBSCRIPTIONS[0] if n != "created_at"]] * 3
    assert answer == [
        {
            "id": unlimited,
            "service": auto,
            "link": "channel_two",
            "quantity": 100,
            "runs": None,  # every new post, with no limit
            "interval": 0,
            "remaining_runs": None,
            "status": "Active",
        },
        {
            "id": subscribed,
            "service": auto,
            "link": "channel_one",
            "quantity": 300,
            "runs": 7,  # 5 new posts and 2 old ones
            "interval": 30,
            "remaining_runs": 4,
            "status": "Active",
        },
        {
            "id": drip["order"],
            "service": views,
            "link": "https://t.me/c/1/2",
            "quantity": 5000,
            "runs": 30,
            "interval": 1440,
            "remaining_runs": 30,
            "status": "Active",
        },
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp) for stamp in stamps), stamps
    assert_same_shape(SUBSCRIPTIONS, [{**answer[1], "created_at": stamps[1]}])
    assert_same_shape(SUBSCRIPTIONS, [{**answer[2], "created_at": stamps[2]}])
    viralhub.update_order(subscribed, "Completed")
    finished = viralhub.call(key, "subscriptions")[1]
    assert (finished["id"], finished["remaining_runs"], finished["status"]) == (subscribed, 0, "Completed")
    # 0.25 × 5000 × 30 / 1000 up front for the drip-feed; 0.50 × 750 / 1000 for the three posts
    assert viralhub.balance() == "62.125"
    assert viralhub.ledger_ok()
