"""Replay every example of the smmgulf (PerfectPanel) API document (seeds/003_0a617f66b82ee704.txt).

Each request of the document is sent to a live server in the ``perfectpanel`` style, and
the answer must have the shape of the document's example response: the same keys in the
same order and the same JSON types (PerfectPanel's strings where it writes strings). The
data is set up so that the server must also answer the document's exact figures: charge
"0.27819", start count "3572", remains "157", order ids 1, 10 and 100, balance "100.84292" …
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.refills import RefillStatus
from smmpanel.money import format_amount, parse_amount
from smmpanel.usecases import refills
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.shapes import assert_same_shape, example

# The example responses, copied verbatim from the document.
SERVICES = example(
    """[
{
"service": 1,
"name": "Followers",
"type": "Default",
"category": "First Category",
"rate": "0.90",
"min": "50",
"max": "10000",
"refill": true,
"cancel": true
}
]"""
)
ADD = example('{ "order": 23501 }')
STATUS = example(
    """{
"charge": "0.27819",
"start_count": "3572",
"status": "Partial",
"remains": "157",
"currency": "USD"
}"""
)
MULTI_STATUS = example(
    """{
"1": { "charge": "0.27819", "start_count": "3572", "status": "Partial", "remains": "157", "currency": "USD" },
"10": { "error": "Incorrect order ID" },
"100": { "charge": "1.44219", "start_count": "234", "status": "In progress", "remains": "10", "currency": "USD" }
}"""
)
REFILL = example('{ "refill": "1" }')
MULTI_REFILL = example(
    """[
{ "order": 1, "refill": 1 },
{ "order": 2, "refill": 2 },
{ "order": 3, "refill": { "error": "Incorrect order ID" } }
]"""
)
REFILL_STATUS = example('{ "status": "Completed" }')
MULTI_REFILL_STATUS = example(
    """[
{ "refill": 1, "status": "Completed" },
{ "refill": 2, "status": "Rejected" },
{ "refill": 3, "status": { "error": "Refill not found" } }
]"""
)
CANCEL = example(
    """[
{ "order": 9, "cancel": { "error": "Incorrect order ID" } },
{ "order": 2, "cancel": 1 }
]"""
)
BALANCE = example(
    """{
"balance": "100.84292",
"currency": "USD"
}"""
)


@pytest.fixture
def perfectpanel(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Panel]:
    server = start_server(api_style="perfectpanel")
    driver = Panel(database_url, server.api_url)
    yield driver
    driver.close()


def followers(panel: Panel, rate: str = "0.90") -> int:
    """The document's service: Followers, Default, First Category, 50..10000, refill and cancel."""
    return panel.service(name="Followers", category="First Category", rate=rate, min=50, max=10000)


def add(panel: Panel, key: str, service: int, link: str = "https://x.test/page", quantity: int = 1000) -> int:
    answer = panel.call(key, "add", service=service, link=link, quantity=quantity)
    assert_same_shape(ADD, answer)
    order: int = answer["order"]
    return order


def test_service_list(perfectpanel: Panel) -> None:
    key = perfectpanel.customer()
    followers(perfectpanel)
    answer = perfectpanel.call(key, "services")
    assert_same_shape(SERVICES, answer)
    assert answer == SERVICES


def test_service_list_shows_a_description_when_set(perfectpanel: Panel) -> None:
    key = perfectpanel.customer()
    perfectpanel.service(description="Fast start.")
    (item,) = perfectpanel.call(key, "services")
    assert list(item) == [*SERVICES[0], "description"]
    assert item["description"] == "Fast start."


def in_a_year() -> str:
    return (datetime.now(UTC) + timedelta(days=365)).strftime("%d/%m/%Y")


# One variant per parameter table of "Add order": (service terms, parameters, charge).
ADD_VARIANTS: dict[str, tuple[dict[str, Any], Callable[[], dict[str, object]], str]] = {
    "Default": (
        {"type": ServiceType.DEFAULT, "rate": "0.90"},
        lambda: {"link": "https://x.test/a", "quantity": 1000},
        "0.90",
    ),
    "Default drip-feed": (
        {"type": ServiceType.DEFAULT, "rate": "0.90"},
        lambda: {"link": "https://x.test/a", "quantity": 100, "runs": 5, "interval": 30},
        "0.45",
    ),
    "Package": (
        {"type": ServiceType.PACKAGE, "rate": "2.50", "min": 1, "max": 1},
        lambda: {"link": "https://x.test/p"},
        "2.50",
    ),
    "Custom Comments": (
        {"type": ServiceType.CUSTOM_COMMENTS, "rate": "12.00", "min": 1, "max": 500},
        lambda: {"link": "https://x.test/c", "comments": "Nice!\r\nGreat post\nWow"},
        "0.036",
    ),
    "Mentions with usernames and quantity": (
        {"type": ServiceType.MENTIONS_CUSTOM_LIST, "rate": "8.00", "min": 1, "max": 1000},
        lambda: {"link": "https://x.test/m", "quantity": 2, "usernames": "alice\r\nbob"},
        "0.016",
    ),
    "Mentions Custom List": (
        {"type": ServiceType.MENTIONS_CUSTOM_LIST, "rate": "8.00", "min": 1, "max": 1000},
        lambda: {"link": "https://x.test/m", "usernames": "alice\nbob\ncarol"},
        "0.024",
    ),
    "Mentions Hashtag": (
        {"type": ServiceType.MENTIONS_HASHTAG, "rate": "6.00", "min": 100, "max": 5000},
        lambda: {"link": "https://x.test/h", "quantity": 200, "hashtag": "travel"},
        "1.20",
    ),
    "Mentions User Followers": (
        {"type": ServiceType.MENTIONS_USER_FOLLOWERS, "rate": "6.50", "min": 100, "max": 5000},
        lambda: {"link": "https://x.test/f", "quantity": 100, "username": "https://x.test/someone"},
        "0.65",
    ),
    "Poll": (
        {"type": ServiceType.POLL, "rate": "3.00", "min": 50, "max": 20000},
        lambda: {"link": "https://x.test/poll", "quantity": 500, "answer_number": 2},
        "1.50",
    ),
    "Subscriptions": (
        {"type": ServiceType.SUBSCRIPTIONS, "rate": "0.40", "min": 100, "max": 50000},
        lambda: {
            "username": "someone",
            "min": 100,
            "max": 200,
            "posts": 10,
            "old_posts": 3,
            "delay": 30,
            "expiry": in_a_year(),
        },
        "0.00",  # each delivered post is charged when it happens
    ),
    "Subscriptions without the optional fields": (
        {"type": ServiceType.SUBSCRIPTIONS, "rate": "0.40", "min": 100, "max": 50000},
        lambda: {"username": "someone", "min": 100, "max": 100, "delay": 0},
        "0.00",
    ),
}


@pytest.mark.parametrize("variant", list(ADD_VARIANTS))
def test_add_order(perfectpanel: Panel, variant: str) -> None:
    terms, params, charge = ADD_VARIANTS[variant]
    key = perfectpanel.customer(balance="10")
    service = perfectpanel.service(**terms)
    answer = perfectpanel.call(key, "add", service=service, **params())
    assert_same_shape(ADD, answer)
    assert answer == {"order": 1}
    status = perfectpanel.call(key, "status", order=1)
    assert (status["charge"], status["status"]) == (charge, "Pending")
    expected = format_amount(parse_amount("10") - parse_amount(charge))
    assert perfectpanel.call(key, "balance") == {"balance": expected, "currency": "USD"}
    assert perfectpanel.ledger_ok()


def partial_order(panel: Panel, key: str) -> int:
    """The document's order: charge 0.27819, start count 3572, Partial with 157 remaining."""
    order = add(panel, key, followers(panel, rate="0.27819"), quantity=1000)
    panel.update_order(order, "Partial", start_count=3572, remains=157)
    return order


def test_order_status(perfectpanel: Panel) -> None:
    key = perfectpanel.customer(balance="100")
    order = partial_order(perfectpanel, key)
    answer = perfectpanel.call(key, "status", order=order)
    assert_same_shape(STATUS, answer)
    assert answer == STATUS
    # 0.27819 charged, 0.27819 × 157 / 1000 = 0.04367583 refunded, rounded down
    assert perfectpanel.balance() == "99.76548"
    assert perfectpanel.ledger_ok()


def test_multiple_orders_status(perfectpanel: Panel) -> None:
    key = perfectpanel.customer(balance="100")
    other = perfectpanel.customer("bob", balance="100")
    assert partial_order(perfectpanel, key) == 1
    filler = followers(perfectpanel)
    for number in range(2, 100):  # order 10 is somebody else's: for this customer it does not exist
        add(perfectpanel, other if number == 10 else key, filler, link=f"https://x.test/{number}", quantity=50)
    last = add(perfectpanel, key, followers(perfectpanel, rate="1.44219"), quantity=1000)
    assert last == 100
    perfectpanel.update_order(last, "In progress", start_count=234, remains=10)
    answer = perfectpanel.call(key, "status", orders="1,10,100")
    assert_same_shape(MULTI_STATUS, answer)
    assert answer == MULTI_STATUS
    assert perfectpanel.call(other, "status", order=10)["status"] == "Pending"


def completed_order(panel: Panel, key: str, service: int) -> int:
    order = add(panel, key, service)
    panel.update_order(order, "Completed", start_count=100)
    return order


def test_create_refill(perfectpanel: Panel) -> None:
    key = perfectpanel.customer()
    order = completed_order(perfectpanel, key, followers(perfectpanel))
    answer = perfectpanel.call(key, "refill", order=order)
    assert_same_shape(REFILL, answer)
    assert answer == REFILL


def test_create_multiple_refills(perfectpanel: Panel) -> None:
    key = perfectpanel.customer()
    other = perfectpanel.customer("bob")
    service = followers(perfectpanel)
    assert [completed_order(perfectpanel, who, service) for who in (key, key, other)] == [1, 2, 3]
    answer = perfectpanel.call(key, "refill", orders="1,2,3")
    assert_same_shape(MULTI_REFILL, answer)
    assert answer == MULTI_REFILL
    assert perfectpanel.call(other, "refill", order=3) == {"refill": "3"}


def test_refill_status(perfectpanel: Panel) -> None:
    key = perfectpanel.customer()
    refill = perfectpanel.call(key, "refill", order=completed_order(perfectpanel, key, followers(perfectpanel)))
    perfectpanel.run(lambda db: refills.update_refill(db, int(refill["refill"]), RefillStatus.COMPLETED))
    answer = perfectpanel.call(key, "refill_status", refill=refill["refill"])
    assert_same_shape(REFILL_STATUS, answer)
    assert answer == REFILL_STATUS


def test_multiple_refill_statuses(perfectpanel: Panel) -> None:
    key = perfectpanel.customer()
    other = perfectpanel.customer("bob")
    service = followers(perfectpanel)
    for who in (key, key, other):  # refill 3 is somebody else's: for this customer it does not exist
        perfectpanel.call(who, "refill", order=completed_order(perfectpanel, who, service))
    perfectpanel.run(lambda db: refills.update_refill(db, 1, RefillStatus.COMPLETED))
    perfectpanel.run(lambda db: refills.update_refill(db, 2, RefillStatus.REJECTED))
    answer = perfectpanel.call(key, "refill_status", refills="1,2,3")
    assert_same_shape(MULTI_REFILL_STATUS, answer)
    assert answer == MULTI_REFILL_STATUS
    assert perfectpanel.call(other, "refill_status", refill=3) == {"status": "Pending"}


def test_cancel_orders(perfectpanel: Panel) -> None:
    key = perfectpanel.customer(balance="10")
    other = perfectpanel.customer("bob", balance="10")
    service = followers(perfectpanel)
    for number in range(1, 10):  # orders 1 and 2 are this customer's; 9 is somebody else's
        add(perfectpanel, key if number <= 2 else other, service, link=f"https://x.test/{number}")
    answer = perfectpanel.call(key, "cancel", orders="9,2")
    assert_same_shape(CANCEL, answer)
    assert answer == CANCEL
    assert perfectpanel.call(key, "status", order=2)["status"] == "Canceled"
    assert perfectpanel.call(other, "status", order=9)["status"] == "Pending"
    assert perfectpanel.balance() == "9.10"  # order 1 still charged, order 2 refunded in full
    assert perfectpanel.balance("bob") == "3.70"
    assert perfectpanel.ledger_ok()


def test_balance(perfectpanel: Panel) -> None:
    key = perfectpanel.customer(balance="101.12111")
    add(perfectpanel, key, followers(perfectpanel, rate="0.27819"), quantity=1000)
    answer = perfectpanel.call(key, "balance")
    assert_same_shape(BALANCE, answer)
    assert answer == BALANCE
