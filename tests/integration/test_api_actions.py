"""API v2 actions end to end: a real server over HTTP on a real database, checked against API_CONTRACT.md."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smmpanel.clock import utcnow
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.orders import Order
from smmpanel.domain.refills import RefillStatus
from smmpanel.errors import Refused
from smmpanel.usecases import accounts, orders, refills
from tests.support.panel import Panel
from tests.support.server import LiveServer

LINK = "https://x.test/post"
SERVICE_FIELDS = ["service", "name", "type", "category", "rate", "min", "max", "refill", "cancel"]


@pytest.fixture
def viralhub(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Panel]:
    """A live panel answering in the ViralHub style."""
    server = start_server(api_style="viralhub")
    driver = Panel(database_url, server.api_url)
    yield driver
    driver.close()


@pytest.fixture(params=["perfectpanel", "viralhub"])
def style(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def styled(database_url: str, start_server: Callable[..., LiveServer], style: str) -> Iterator[Panel]:
    """A live panel in each of the two response styles."""
    driver = Panel(database_url, start_server(api_style=style).api_url)
    yield driver
    driver.close()


# helpers


def typed(value: Any) -> Any:
    """JSON with types and key order made visible, so that 1, True and "1" never compare equal."""
    if isinstance(value, dict):
        return [(name, typed(item)) for name, item in value.items()]
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def assert_answer(panel: Panel, key: str, action: str, expected: Any, **params: Any) -> None:
    assert typed(panel.call(key, action, **params)) == typed(expected)


def add(panel: Panel, key: str, service: int, **params: Any) -> int:
    answer = panel.call(key, "add", service=service, **params)
    assert list(answer) == ["order"] and type(answer["order"]) is int, answer
    return int(answer["order"])


def stored_orders(panel: Panel, username: str = "alice") -> list[Order]:
    listing = panel.run(lambda db: orders.list_orders(db, username=username, status=None, limit=1000))
    return [order for order, _ in listing]


def stored_order(panel: Panel, order_id: int, username: str = "alice") -> Order:
    return next(order for order in stored_orders(panel, username) if order.id == order_id)


def assert_add_refused(panel: Panel, key: str, error: str, **params: Any) -> None:
    """A refused add answers exactly ``error`` and leaves alice's balance and orders as they were."""
    before = panel.balance("alice"), [order.id for order in stored_orders(panel)]
    assert_answer(panel, key, "add", {"error": error}, **params)
    assert (panel.balance("alice"), [order.id for order in stored_orders(panel)]) == before
    assert panel.ledger_ok()


def status(charge: str, start_count: int, state: str, remains: int, *, strings: bool) -> dict[str, Any]:
    """The status shape; perfectpanel writes counts as strings, viralhub as numbers."""
    count: Callable[[int], object] = str if strings else int
    return {
        "charge": charge,
        "start_count": count(start_count),
        "status": state,
        "remains": count(remains),
        "currency": "USD",
    }


def finished_days_ago(panel: Panel, order_id: int, days: int) -> None:
    """Move an order's finish into the past, as if it had ended ``days`` ago."""

    async def move(db: Database) -> None:
        async with db.write() as repos:
            await repos.orders.update(order_id, {"finished_at": utcnow() - timedelta(days=days)}, utcnow())

    panel.run(move)


def set_refill(panel: Panel, refill_id: int, state: RefillStatus) -> None:
    panel.run(lambda db: refills.update_refill(db, refill_id, state))


# services


def test_services_perfectpanel_lists_enabled_services_with_string_limits(panel: Panel) -> None:
    key = panel.customer()
    first = panel.service(name="Followers", category="First Category", rate="0.90", min=50, max=10000)
    panel.service(name="Retired", enabled=False)
    second = panel.service(
        name="Likes", category="Instagram", rate="1.2", min=10, max=500, refill=False, cancel=False, description="Fast."
    )
    answer = panel.call(key, "services")
    assert typed(answer) == typed(
        [
            {
                "service": first,
                "name": "Followers",
                "type": "Default",
                "category": "First Category",
                "rate": "0.90",
                "min": "50",
                "max": "10000",
                "refill": True,
                "cancel": True,
            },
            {
                "service": second,
                "name": "Likes",
                "type": "Default",
                "category": "Instagram",
                "rate": "1.20",
                "min": "10",
                "max": "500",
                "refill": False,
                "cancel": False,
                "description": "Fast.",
            },
        ]
    )


def test_services_viralhub_has_number_limits_and_always_a_description(viralhub: Panel) -> None:
    key = viralhub.customer()
    first = viralhub.service(
        name="Telegram Channel Members", category="Telegram", rate="0.8", min=100, max=500000, cancel=False
    )
    viralhub.service(name="Retired", enabled=False)
    second = viralhub.service(name="HQ", category="Telegram", rate="1.20", min=100, max=100000, description="Slower.")
    answer = viralhub.call(key, "services")
    assert [list(item) for item in answer] == [[*SERVICE_FIELDS, "description"]] * 2
    assert typed(answer) == typed(
        [
            {
                "service": first,
                "name": "Telegram Channel Members",
                "type": "Default",
                "category": "Telegram",
                "rate": "0.80",
                "min": 100,
                "max": 500000,
                "refill": True,
                "cancel": False,
                "description": "",
            },
            {
                "service": second,
                "name": "HQ",
                "type": "Default",
                "category": "Telegram",
                "rate": "1.20",
                "min": 100,
                "max": 100000,
                "refill": True,
                "cancel": True,
                "description": "Slower.",
            },
        ]
    )


def test_services_answer_each_type_by_its_standard_name(panel: Panel) -> None:
    key = panel.customer()
    for kind in ServiceType:
        panel.service(name=kind.value, type=kind, min=1, max=1000)
    assert [item["type"] for item in panel.call(key, "services")] == [kind.value for kind in ServiceType]


# add, by service type

TYPE_CASES = [
    pytest.param(ServiceType.DEFAULT, "0.90", 50, 10000, {"quantity": "1000"}, "0.90", 1000, "9.10", id="default"),
    pytest.param(ServiceType.PACKAGE, "2.50", 1, 1, {}, "2.50", 1, "7.50", id="package"),
    pytest.param(
        ServiceType.CUSTOM_COMMENTS,
        "12.00",
        1,
        500,
        {"comments": "nice\r\ngreat\n\n  \r\nwow\n"},
        "0.036",
        3,
        "9.964",
        id="custom-comments",
    ),
    pytest.param(
        ServiceType.MENTIONS_CUSTOM_LIST,
        "8.00",
        1,
        1000,
        {"usernames": "anna\r\nbob\ncarl\r\n\r\ndora"},
        "0.032",
        4,
        "9.968",
        id="mentions-custom-list",
    ),
    pytest.param(
        ServiceType.MENTIONS_HASHTAG,
        "6.00",
        100,
        5000,
        {"quantity": "150", "hashtag": "#travel"},
        "0.90",
        150,
        "9.10",
        id="mentions-hashtag",
    ),
    pytest.param(
        ServiceType.MENTIONS_USER_FOLLOWERS,
        "6.50",
        100,
        5000,
        {"quantity": "200", "username": "https://instagram.com/nasa"},
        "1.30",
        200,
        "8.70",
        id="mentions-user-followers",
    ),
    pytest.param(
        ServiceType.POLL, "3.00", 50, 20000, {"quantity": "75", "answer_number": "2"}, "0.225", 75, "9.775", id="poll"
    ),
    pytest.param(
        ServiceType.COMMENT_LIKES,
        "4.00",
        20,
        2000,
        {"quantity": "33", "username": "commenter"},
        "0.132",
        33,
        "9.868",
        id="comment-likes",
    ),
]


@pytest.mark.parametrize(("kind", "rate", "low", "high", "fields", "charge", "quantity", "balance"), TYPE_CASES)
def test_add_charges_each_service_type_its_exact_price(
    panel: Panel,
    kind: ServiceType,
    rate: str,
    low: int,
    high: int,
    fields: dict[str, str],
    charge: str,
    quantity: int,
    balance: str,
) -> None:
    key = panel.customer(balance="10")
    service = panel.service(type=kind, rate=rate, min=low, max=high)
    order = add(panel, key, service, link=LINK, **fields)
    assert panel.balance() == balance
    assert_answer(panel, key, "status", status(charge, 0, "Pending", quantity, strings=True), order=order)
    assert stored_order(panel, order).quantity == quantity
    assert panel.ledger_ok()


def test_add_package_is_one_package_whatever_quantity_says(panel: Panel) -> None:
    key = panel.customer(balance="10")
    service = panel.service(type=ServiceType.PACKAGE, rate="2.50", min=1, max=1)
    order = add(panel, key, service, link=LINK, quantity="5000")
    assert panel.balance() == "7.50"
    assert_answer(panel, key, "status", status("2.50", 0, "Pending", 1, strings=True), order=order)


def test_add_stores_the_type_specific_fields(panel: Panel) -> None:
    key = panel.customer(balance="10")
    comments = panel.service(type=ServiceType.CUSTOM_COMMENTS, rate="12.00", min=1, max=500)
    poll = panel.service(type=ServiceType.POLL, rate="3.00", min=50, max=20000)
    first = add(panel, key, comments, link=LINK, comments=" nice \r\n\r\ngreat\n")
    second = add(panel, key, poll, link=LINK, quantity="50", answer_number="3")
    assert stored_order(panel, first).details == {"comments": ["nice", "great"]}
    assert stored_order(panel, second).details == {"answer_number": 3}


def test_add_rounds_the_charge_half_up_to_five_digits(panel: Panel) -> None:
    key = panel.customer(balance="1")
    service = panel.service(rate="0.33335", min=1, max=10000)
    order = add(panel, key, service, link=LINK, quantity="1500")  # 0.500025 -> 0.50003
    assert panel.balance() == "0.49997"
    assert panel.call(key, "status", order=order)["charge"] == "0.50003"


def test_add_with_exactly_enough_funds_leaves_zero(panel: Panel) -> None:
    key = panel.customer(balance="0.9")
    service = panel.service(rate="0.90")
    add(panel, key, service, link=LINK, quantity="1000")
    assert_answer(panel, key, "balance", {"balance": "0.00", "currency": "USD"})


def test_a_refused_add_draws_no_order_id(panel: Panel) -> None:
    """Issue 16: the charge comes first (on PostgreSQL in the same statement as the insert), so
    an order refused for funds inserts nothing, and the next order takes the very next id."""
    key = panel.customer(balance="1")
    service = panel.service(rate="0.90")
    first = add(panel, key, service, link=LINK, quantity="1000")
    for _ in range(3):
        assert_add_refused(panel, key, "Not enough funds on balance", service=service, link=LINK, quantity="1000")
    panel.run(lambda db: accounts.fund(db, "alice", 90_000))
    assert add(panel, key, service, link=LINK, quantity="1000") == first + 1
    assert panel.balance() == "0.10"
    _, entries = panel.run(lambda db: accounts.ledger_of(db, "alice", 100))
    charges = [(e.amount, e.balance_after, e.order_id, e.note) for e in entries if e.kind == "charge"]
    assert sorted(charges, key=lambda c: c[2] or 0) == [
        (-90_000, 10_000, first, f"order {first}"),
        (-90_000, 10_000, first + 1, f"order {first + 1}"),
    ]


def test_add_subscription_charges_nothing_up_front_and_each_post_when_recorded(panel: Panel) -> None:
    key = panel.customer(balance="1")
    service = panel.service(type=ServiceType.SUBSCRIPTIONS, rate="0.40", min=100, max=50000)
    order = add(panel, key, service, username="nasa", min="100", max="500", delay="30", posts="10", expiry="31/12/2099")
    assert panel.balance() == "1.00"
    assert stored_order(panel, order).details == {
        "username": "nasa",
        "min": 100,
        "max": 500,
        "delay": 30,
        "posts": 10,
        "expiry": "2099-12-31",
    }
    assert_answer(panel, key, "status", status("0.00", 0, "Pending", 0, strings=True), order=order)
    panel.run(lambda db: orders.record_subscription_post(db, order, 250))
    assert panel.balance() == "0.90"
    assert panel.call(key, "status", order=order)["charge"] == "0.10"
    assert panel.ledger_ok()


def test_add_subscription_needs_funds_for_a_first_post_of_max_size(panel: Panel) -> None:
    key = panel.customer(balance="0.19999")
    service = panel.service(type=ServiceType.SUBSCRIPTIONS, rate="0.40", min=100, max=50000)
    terms = {"username": "nasa", "min": "100", "max": "500", "delay": "0"}
    assert_add_refused(panel, key, "Not enough funds on balance", service=service, **terms)
    panel.run(lambda db: accounts.fund(db, "alice", 1))  # one smallest unit more: 0.20000
    add(panel, key, service, **terms)


TYPE_REFUSALS = [
    pytest.param(ServiceType.PACKAGE, {}, "Incorrect link", id="package-without-link"),
    pytest.param(ServiceType.CUSTOM_COMMENTS, {"link": LINK}, "Incorrect comments", id="comments-missing"),
    pytest.param(ServiceType.CUSTOM_COMMENTS, {"link": LINK, "comments": "\n \r\n"}, "Incorrect comments", id="blank"),
    pytest.param(
        ServiceType.CUSTOM_COMMENTS,
        {"link": LINK, "comments": "a\nb\nc\nd\ne\nf"},
        "Quantity more than maximum 5",
        id="comments-above-max",
    ),
    pytest.param(ServiceType.MENTIONS_CUSTOM_LIST, {"link": LINK}, "Incorrect usernames", id="usernames-missing"),
    pytest.param(
        ServiceType.MENTIONS_CUSTOM_LIST,
        {"link": LINK, "usernames": "a"},
        "Quantity less than minimal 2",
        id="usernames-below-min",
    ),
    pytest.param(ServiceType.MENTIONS_HASHTAG, {"link": LINK, "quantity": "3"}, "Incorrect hashtag", id="hashtag"),
    pytest.param(
        ServiceType.MENTIONS_HASHTAG, {"quantity": "3", "hashtag": "#a"}, "Incorrect link", id="hashtag-without-link"
    ),
    pytest.param(
        ServiceType.MENTIONS_USER_FOLLOWERS, {"link": LINK, "quantity": "3"}, "Incorrect username", id="followers"
    ),
    pytest.param(ServiceType.POLL, {"link": LINK, "quantity": "3"}, "Incorrect answer number", id="poll-no-answer"),
    pytest.param(
        ServiceType.POLL, {"link": LINK, "quantity": "3", "answer_number": "0"}, "Incorrect answer number", id="poll-0"
    ),
    pytest.param(ServiceType.COMMENT_LIKES, {"link": LINK, "quantity": "3"}, "Incorrect username", id="likes"),
    pytest.param(
        ServiceType.COMMENT_LIKES, {"link": LINK, "username": "u"}, "Incorrect quantity", id="likes-no-quantity"
    ),
    pytest.param(
        ServiceType.SUBSCRIPTIONS, {"min": "2", "max": "4", "delay": "0"}, "Incorrect username", id="sub-user"
    ),
    pytest.param(
        ServiceType.SUBSCRIPTIONS,
        {"username": "u", "min": "1", "max": "4", "delay": "0"},
        "Incorrect min",
        id="sub-min",
    ),
    pytest.param(
        ServiceType.SUBSCRIPTIONS,
        {"username": "u", "min": "3", "max": "2", "delay": "0"},
        "Incorrect max",
        id="sub-max",
    ),
    pytest.param(
        ServiceType.SUBSCRIPTIONS,
        {"username": "u", "min": "2", "max": "4", "delay": "7"},
        "Incorrect delay",
        id="delay",
    ),
    pytest.param(
        ServiceType.SUBSCRIPTIONS,
        {"username": "u", "min": "2", "max": "4", "delay": "5", "expiry": "31/02/2099"},
        "Incorrect expiry",
        id="sub-expiry",
    ),
]


@pytest.mark.parametrize(("kind", "fields", "error"), TYPE_REFUSALS)
def test_add_refuses_a_missing_or_bad_type_specific_field(
    panel: Panel, kind: ServiceType, fields: dict[str, str], error: str
) -> None:
    key = panel.customer(balance="10")
    service = panel.service(type=kind, rate="1.00", min=2, max=5)
    assert_add_refused(panel, key, error, service=service, **fields)


# add: refusals of the common fields

DISABLED = "<disabled>"
COMMON_REFUSALS = [
    pytest.param({"service": "999"}, "Incorrect service ID", id="unknown-service"),
    pytest.param({"service": DISABLED}, "Incorrect service ID", id="disabled-service"),
    pytest.param({"service": "abc"}, "Incorrect service ID", id="non-numeric-service"),
    pytest.param({"service": "0"}, "Incorrect service ID", id="zero-service"),
    pytest.param({"service": None}, "Incorrect service ID", id="missing-service"),
    pytest.param({"link": None}, "Incorrect link", id="missing-link"),
    pytest.param({"link": "  "}, "Incorrect link", id="blank-link"),
    pytest.param({"quantity": "100.5"}, "Incorrect quantity", id="fractional-quantity"),
    pytest.param({"quantity": "-100"}, "Incorrect quantity", id="negative-quantity"),
    pytest.param({"quantity": "many"}, "Incorrect quantity", id="text-quantity"),
    pytest.param({"quantity": None}, "Incorrect quantity", id="missing-quantity"),
    pytest.param({"quantity": "49"}, "Quantity less than minimal 50", id="below-min"),
    pytest.param({"quantity": "10001"}, "Quantity more than maximum 10000", id="above-max"),
    pytest.param({"runs": "0", "interval": "60"}, "Incorrect runs", id="zero-runs"),
    pytest.param({"runs": "1001", "interval": "60"}, "Incorrect runs", id="too-many-runs"),
    pytest.param({"runs": "2.5", "interval": "60"}, "Incorrect runs", id="fractional-runs"),
    pytest.param({"interval": "60"}, "Incorrect runs", id="interval-without-runs"),
    pytest.param({"runs": "3"}, "Incorrect interval", id="runs-without-interval"),
    pytest.param({"runs": "3", "interval": "0"}, "Incorrect interval", id="zero-interval"),
    pytest.param({"runs": "3", "interval": "x"}, "Incorrect interval", id="text-interval"),
    pytest.param({"runs": "3", "interval": "43201"}, "Incorrect interval", id="interval-above-30-days"),
    pytest.param({"quantity": "10000"}, "Not enough funds on balance", id="not-enough-funds"),
    pytest.param({"runs": "10", "interval": "60"}, "Not enough funds on balance", id="drip-feed-not-enough-funds"),
]


@pytest.mark.parametrize(("changes", "error"), COMMON_REFUSALS)
def test_add_refusal_answers_one_error_and_moves_no_money(
    panel: Panel, changes: dict[str, str | None], error: str
) -> None:
    key = panel.customer(balance="5")
    service = panel.service(rate="0.90", min=50, max=10000)
    disabled = panel.service(rate="0.90", min=50, max=10000, enabled=False)
    params: dict[str, Any] = {"service": str(service), "link": LINK, "quantity": "1000"}
    params.update(changes)
    if params["service"] == DISABLED:
        params["service"] = str(disabled)
    assert_add_refused(panel, key, error, **{name: value for name, value in params.items() if value is not None})


def test_add_treats_empty_optional_params_as_absent(panel: Panel) -> None:
    key = panel.customer(balance="10")
    service = panel.service(rate="0.90")
    order = add(panel, key, service, link=LINK, quantity="1000", runs="", interval="")
    assert panel.balance() == "9.10"
    stored = stored_order(panel, order)
    assert (stored.runs, stored.interval, stored.remains) == (None, None, 1000)
    assert panel.call(key, "subscriptions") == []


def test_add_drip_feed_charges_all_runs_up_front(panel: Panel) -> None:
    key = panel.customer(balance="10")
    service = panel.service(rate="0.90")
    order = add(panel, key, service, link=LINK, quantity="100", runs="5", interval="60")
    assert panel.balance() == "9.55"
    assert_answer(panel, key, "status", status("0.45", 0, "Pending", 500, strings=True), order=order)
    assert panel.ledger_ok()


def test_add_drip_feed_rounds_the_total_not_each_run(panel: Panel) -> None:
    key = panel.customer(balance="1")
    service = panel.service(rate="0.33335", min=1)
    add(panel, key, service, link=LINK, quantity="500", runs="3", interval="10")  # 0.500025 once, not 0.16668 x 3
    assert panel.balance() == "0.49997"


def test_add_allows_the_same_link_twice_by_default(panel: Panel) -> None:
    key = panel.customer(balance="10")
    service = panel.service(rate="0.90")
    assert [add(panel, key, service, link=LINK, quantity="1000") for _ in range(2)] == [1, 2]
    assert panel.balance() == "8.20"


def test_add_refuses_a_duplicate_active_link_when_the_service_says_so(panel: Panel) -> None:
    key = panel.customer(balance="10")
    service = panel.service(rate="0.90", deny_duplicate_link=True)
    first = add(panel, key, service, link=LINK, quantity="1000")
    message = "You have active order with this link. Please wait until order being completed."
    assert_add_refused(panel, key, message, service=service, link=LINK, quantity="1000")
    add(panel, key, service, link=LINK + "/other", quantity="1000")
    panel.update_order(first, "Completed")
    add(panel, key, service, link=LINK, quantity="1000")
    assert panel.balance() == "7.30"


def test_add_duplicate_link_rule_is_per_customer(panel: Panel) -> None:
    alice = panel.customer("alice", balance="10")
    bob = panel.customer("bob", balance="10")
    service = panel.service(rate="0.90", deny_duplicate_link=True)
    add(panel, alice, service, link=LINK, quantity="1000")
    add(panel, bob, service, link=LINK, quantity="1000")
    assert (panel.balance("alice"), panel.balance("bob")) == ("9.10", "9.10")


# status


def test_status_single_perfectpanel_counts_are_strings(panel: Panel) -> None:
    key = panel.customer()
    order = add(panel, key, panel.service(rate="0.80"), link=LINK, quantity="1000")
    panel.update_order(order, "In progress", start_count=4234, remains=300)
    assert_answer(panel, key, "status", status("0.80", 4234, "In progress", 300, strings=True), order=order)


def test_status_single_viralhub_counts_are_numbers(viralhub: Panel) -> None:
    key = viralhub.customer()
    order = add(viralhub, key, viralhub.service(rate="0.80"), link=LINK, quantity="1000")
    viralhub.update_order(order, "In progress", start_count=4234, remains=300)
    assert_answer(viralhub, key, "status", status("0.80", 4234, "In progress", 300, strings=False), order=order)


@pytest.mark.parametrize("order", ["999", "abc", "0", "-1", "1.0", ""])
def test_status_single_of_an_unknown_or_invalid_id_is_incorrect_order(panel: Panel, order: str) -> None:
    key = panel.customer()
    add(panel, key, panel.service(), link=LINK, quantity="100")
    assert_answer(panel, key, "status", {"error": "Incorrect order ID"}, order=order)


def test_status_without_an_order_is_incorrect_order(panel: Panel) -> None:
    assert_answer(panel, panel.customer(), "status", {"error": "Incorrect order ID"})


def test_status_many_is_keyed_by_id_as_given(styled: Panel, style: str) -> None:
    panel, strings = styled, style == "perfectpanel"
    key = panel.customer()
    service = panel.service(rate="0.90")
    first = add(panel, key, service, link=LINK, quantity="1000")
    second = add(panel, key, service, link=LINK, quantity="500")
    panel.update_order(first, "Partial", start_count=3572, remains=157)
    answer = panel.call(key, "status", orders=f" {second} ,999, abc,{first},{second},,0")
    assert typed(answer) == typed(
        {
            str(second): status("0.45", 0, "Pending", 500, strings=strings),
            "999": {"error": "Incorrect order ID"},
            "abc": {"error": "Incorrect order ID"},
            str(first): status("0.90", 3572, "Partial", 157, strings=strings),
            "0": {"error": "Incorrect order ID"},
        }
    )


def test_status_many_answers_up_to_100_distinct_ids(panel: Panel) -> None:
    key = panel.customer()
    order = add(panel, key, panel.service(), link=LINK, quantity="100")
    ids = [str(number) for number in range(1, 101)]
    answer = panel.call(key, "status", orders=",".join([*ids, str(order)]))
    assert list(answer) == ids
    assert answer[str(order)]["status"] == "Pending"
    assert all(answer[token] == {"error": "Incorrect order ID"} for token in ids[1:])


@pytest.mark.parametrize(
    ("action", "name"), [("status", "orders"), ("refill", "orders"), ("refill_status", "refills"), ("cancel", "orders")]
)
def test_more_than_100_ids_are_refused(panel: Panel, action: str, name: str) -> None:
    key = panel.customer()
    order = add(panel, key, panel.service(), link=LINK, quantity="100")
    ids = ",".join(str(number) for number in range(1, 102))
    assert_answer(panel, key, action, {"error": "Too many ids (max 100)"}, **{name: ids})
    assert panel.call(key, "status", order=order)["status"] == "Pending"
    assert panel.balance() == "99.91"


# order lifecycle and refunds


def test_partial_refund_is_rounded_down(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.27819"), link=LINK, quantity="1000")
    panel.update_order(order, "Partial", start_count=3572, remains=157)  # 0.04367583 back, rounded down
    assert_answer(panel, key, "status", status("0.27819", 3572, "Partial", 157, strings=True), order=order)
    assert panel.balance() == "0.76548"
    assert stored_order(panel, order).refunded == 4367
    assert panel.ledger_ok()


def test_partial_refund_of_a_drip_feed_counts_every_run(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.90"), link=LINK, quantity="100", runs="3", interval="60")
    panel.update_order(order, "Partial", remains=100)  # a third of 0.27 back
    assert panel.balance() == "0.82"
    assert panel.ledger_ok()


def test_completed_order_refunds_nothing(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.90"), link=LINK, quantity="1000")
    panel.update_order(order, "Completed", start_count=10)
    assert_answer(panel, key, "status", status("0.90", 10, "Completed", 0, strings=True), order=order)
    assert panel.balance() == "0.10"


def test_canceled_order_refunds_the_whole_charge_once(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.27819"), link=LINK, quantity="1000")
    panel.update_order(order, "In progress", start_count=5, remains=600)
    panel.update_order(order, "Canceled")
    assert panel.balance() == "1.00"
    panel.update_order(order, "Canceled")
    assert panel.balance() == "1.00"
    assert_answer(panel, key, "status", status("0.27819", 5, "Canceled", 1000, strings=True), order=order)
    assert panel.ledger_ok()


@pytest.mark.parametrize(
    ("first", "then"), [("Canceled", "Partial"), ("Partial", "Canceled"), ("Completed", "Canceled")]
)
def test_a_finished_order_cannot_move_to_another_final_status(panel: Panel, first: str, then: str) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.27819"), link=LINK, quantity="1000")
    panel.update_order(order, first, remains=157)
    balance = panel.balance()
    with pytest.raises(Refused, match=f"^Order is already {first}$"):
        panel.update_order(order, then, remains=500 if then == "Partial" else None)
    assert panel.balance() == balance
    assert panel.call(key, "status", order=order)["status"] == first
    assert panel.ledger_ok()


def test_repeating_the_same_partial_update_refunds_once(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.27819"), link=LINK, quantity="1000")
    panel.update_order(order, "Partial", remains=157)
    panel.update_order(order, "Partial", remains=157)
    assert panel.balance() == "0.76548"
    assert panel.ledger_ok()


# refill


def completed_order(panel: Panel, key: str, service: int, state: str = "Completed") -> int:
    order = add(panel, key, service, link=LINK, quantity="1000")
    panel.update_order(order, state, remains=100 if state == "Partial" else None)
    return order


def test_refill_single_perfectpanel_answers_a_string_id(panel: Panel) -> None:
    key = panel.customer()
    order = completed_order(panel, key, panel.service(refill=True))
    assert_answer(panel, key, "refill", {"refill": "1"}, order=order)
    assert_answer(panel, key, "refill_status", {"status": "Pending"}, refill="1")


def test_refill_single_viralhub_answers_a_number_id(viralhub: Panel) -> None:
    key = viralhub.customer()
    order = completed_order(viralhub, key, viralhub.service(refill=True))
    assert_answer(viralhub, key, "refill", {"refill": 1}, order=order)
    assert_answer(viralhub, key, "refill_status", {"status": "Pending"}, refill=1)


def test_refill_asked_twice_answers_the_same_refill(panel: Panel) -> None:
    key = panel.customer()
    order = completed_order(panel, key, panel.service(refill=True))
    assert [panel.call(key, "refill", order=order) for _ in range(2)] == [{"refill": "1"}] * 2
    set_refill(panel, 1, RefillStatus.IN_PROGRESS)
    assert panel.call(key, "refill", order=order) == {"refill": "1"}
    set_refill(panel, 1, RefillStatus.COMPLETED)
    assert panel.call(key, "refill", order=order) == {"refill": "2"}


def test_refill_of_a_partial_order_is_allowed(panel: Panel) -> None:
    key = panel.customer()
    order = completed_order(panel, key, panel.service(refill=True), state="Partial")
    assert_answer(panel, key, "refill", {"refill": "1"}, order=order)


def test_refill_not_available_for_a_service_without_refill(panel: Panel) -> None:
    key = panel.customer()
    order = completed_order(panel, key, panel.service(refill=False))
    assert_answer(panel, key, "refill", {"error": "Refill not available for this service"}, order=order)
    assert_answer(panel, key, "refill_status", {"error": "Refill not found"}, refill="1")


@pytest.mark.parametrize("state", ["Pending", "In progress", "Canceled"])
def test_refill_not_available_for_an_unfinished_or_canceled_order(panel: Panel, state: str) -> None:
    key = panel.customer()
    order = add(panel, key, panel.service(refill=True), link=LINK, quantity="1000")
    if state != "Pending":
        panel.update_order(order, state)
    assert_answer(panel, key, "refill", {"error": "Refill not available for this order"}, order=order)


def test_refill_not_available_outside_a_zero_day_window(panel: Panel) -> None:
    key = panel.customer()
    order = completed_order(panel, key, panel.service(refill=True, refill_days=0))
    finished_days_ago(panel, order, 1)
    assert_answer(panel, key, "refill", {"error": "Refill not available for this order"}, order=order)


@pytest.mark.parametrize(
    ("days_ago", "expected"), [(29, {"refill": "1"}), (31, {"error": "Refill not available for this order"})]
)
def test_refill_window_is_counted_from_the_finish(panel: Panel, days_ago: int, expected: dict[str, str]) -> None:
    key = panel.customer()
    order = completed_order(panel, key, panel.service(refill=True, refill_days=30))
    finished_days_ago(panel, order, days_ago)
    assert_answer(panel, key, "refill", expected, order=order)


@pytest.mark.parametrize("order", ["999", "abc", "0", ""])
def test_refill_of_an_unknown_or_invalid_order_is_incorrect_order(panel: Panel, order: str) -> None:
    key = panel.customer()
    completed_order(panel, key, panel.service(refill=True))
    assert_answer(panel, key, "refill", {"error": "Incorrect order ID"}, order=order)


def test_refill_many_answers_one_item_per_id_with_number_ids(styled: Panel) -> None:
    panel = styled
    key = panel.customer()
    refillable = panel.service(refill=True)
    done = completed_order(panel, key, refillable)
    partial = completed_order(panel, key, refillable, state="Partial")
    pending = add(panel, key, refillable, link=LINK, quantity="1000")
    no_refill = completed_order(panel, key, panel.service(refill=False))
    answer = panel.call(key, "refill", orders=f"{done}, {pending},{partial},{no_refill},999,{done},abc")
    assert typed(answer) == typed(
        [
            {"order": done, "refill": 1},
            {"order": pending, "refill": {"error": "Refill not available for this order"}},
            {"order": partial, "refill": 2},
            {"order": no_refill, "refill": {"error": "Refill not available for this service"}},
            {"order": 999, "refill": {"error": "Incorrect order ID"}},
            {"order": "abc", "refill": {"error": "Incorrect order ID"}},
        ]
    )


def test_refill_status_many_reports_each_refill(panel: Panel) -> None:
    key = panel.customer()
    service = panel.service(refill=True)
    for _ in range(3):
        panel.call(key, "refill", order=completed_order(panel, key, service))
    set_refill(panel, 1, RefillStatus.COMPLETED)
    set_refill(panel, 2, RefillStatus.REJECTED)
    set_refill(panel, 3, RefillStatus.IN_PROGRESS)
    assert_answer(panel, key, "refill_status", {"status": "Rejected"}, refill="2")
    assert_answer(
        panel,
        key,
        "refill_status",
        [
            {"refill": 3, "status": "In progress"},
            {"refill": 1, "status": "Completed"},
            {"refill": 99, "status": {"error": "Refill not found"}},
            {"refill": 2, "status": "Rejected"},
            {"refill": "x", "status": {"error": "Refill not found"}},
        ],
        refills="3, 1,99,3,2,x",
    )


@pytest.mark.parametrize("refill", ["99", "abc", "0", ""])
def test_refill_status_single_of_an_unknown_refill_is_not_found(panel: Panel, refill: str) -> None:
    key = panel.customer()
    panel.call(key, "refill", order=completed_order(panel, key, panel.service(refill=True)))
    assert_answer(panel, key, "refill_status", {"error": "Refill not found"}, refill=refill)


# cancel


def test_cancel_pending_order_perfectpanel_refunds_at_once(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.27819"), link=LINK, quantity="1000")
    assert_answer(panel, key, "cancel", [{"order": order, "cancel": 1}], orders=str(order))
    assert panel.balance() == "1.00"
    assert_answer(panel, key, "status", status("0.27819", 0, "Canceled", 1000, strings=True), order=order)
    assert panel.ledger_ok()


def test_cancel_single_order_viralhub_is_a_list_with_a_status_object(viralhub: Panel) -> None:
    key = viralhub.customer(balance="1")
    order = add(viralhub, key, viralhub.service(rate="0.27819"), link=LINK, quantity="1000")
    assert_answer(viralhub, key, "cancel", [{"order": order, "cancel": {"status": "success"}}], order=order)
    assert viralhub.balance() == "1.00"
    assert viralhub.call(key, "status", order=order)["status"] == "Canceled"


def test_cancel_twice_refunds_once(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.27819"), link=LINK, quantity="1000")
    panel.call(key, "cancel", order=order)
    expected = [{"order": order, "cancel": {"error": "Cancel not available for this order"}}]
    assert_answer(panel, key, "cancel", expected, order=order)
    assert panel.balance() == "1.00"
    assert panel.ledger_ok()


def test_cancel_of_one_order_written_twice_reports_the_success(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.27819"), link=LINK, quantity="1000")
    expected = [{"order": order, "cancel": 1}] * 2
    assert_answer(panel, key, "cancel", expected, orders=f"{order},0{order}")
    assert panel.balance() == "1.00"
    assert panel.ledger_ok()


def test_cancel_in_progress_order_only_records_a_request(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.27819"), link=LINK, quantity="1000")
    panel.update_order(order, "In progress", start_count=7, remains=400)
    assert_answer(panel, key, "cancel", [{"order": order, "cancel": 1}], orders=str(order))
    assert_answer(panel, key, "status", status("0.27819", 7, "In progress", 400, strings=True), order=order)
    assert panel.balance() == "0.72181"
    assert stored_order(panel, order).cancel_requested is True
    panel.update_order(order, "Canceled")
    assert panel.balance() == "1.00"


def test_cancel_not_available_for_a_service_without_cancel(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = add(panel, key, panel.service(rate="0.90", cancel=False), link=LINK, quantity="1000")
    expected = [{"order": order, "cancel": {"error": "Cancel not available for this service"}}]
    assert_answer(panel, key, "cancel", expected, orders=str(order))
    assert panel.call(key, "status", order=order)["status"] == "Pending"
    assert panel.balance() == "0.10"


def test_cancel_of_a_finished_order_is_refused_in_the_item(panel: Panel) -> None:
    key = panel.customer(balance="1")
    order = completed_order(panel, key, panel.service(rate="0.90"))
    expected = [{"order": order, "cancel": {"error": "Cancel not available for this order"}}]
    assert_answer(panel, key, "cancel", expected, order=order)
    assert panel.balance() == "0.10"


def test_cancel_many_answers_each_id_once_in_order(styled: Panel, style: str) -> None:
    panel = styled
    success: object = 1 if style == "perfectpanel" else {"status": "success"}
    key = panel.customer(balance="10")
    cancelable = panel.service(rate="0.90")
    first = add(panel, key, cancelable, link=LINK, quantity="1000")
    fixed = add(panel, key, panel.service(rate="0.90", cancel=False), link=LINK, quantity="1000")
    second = add(panel, key, cancelable, link=LINK, quantity="1000")
    answer = panel.call(key, "cancel", orders=f"{second}, 999 ,{fixed},{second},abc,{first}")
    assert typed(answer) == typed(
        [
            {"order": second, "cancel": success},
            {"order": 999, "cancel": {"error": "Incorrect order ID"}},
            {"order": fixed, "cancel": {"error": "Cancel not available for this service"}},
            {"order": "abc", "cancel": {"error": "Incorrect order ID"}},
            {"order": first, "cancel": success},
        ]
    )
    assert panel.balance() == "9.10"
    assert panel.ledger_ok()


# balance


@pytest.mark.parametrize(
    ("opening", "shown"),
    [("47.5", "47.50"), ("100.84292", "100.84292"), ("0.27819", "0.27819"), ("0", "0.00"), ("100", "100.00")],
)
def test_balance_is_a_string_with_at_least_two_decimals(panel: Panel, opening: str, shown: str) -> None:
    assert_answer(panel, panel.customer(balance=opening), "balance", {"balance": shown, "currency": "USD"})


def test_balance_viralhub_is_a_string_too(viralhub: Panel) -> None:
    assert_answer(viralhub, viralhub.customer(balance="47.5"), "balance", {"balance": "47.50", "currency": "USD"})


def test_balance_answers_the_configured_currency(database_url: str, start_server: Callable[..., LiveServer]) -> None:
    panel = Panel(database_url, start_server(currency="EUR").api_url)
    try:
        assert_euro_answers(panel)
    finally:
        panel.close()


def assert_euro_answers(panel: Panel) -> None:
    key = panel.customer(balance="3.1")
    order = add(panel, key, panel.service(rate="0.90"), link=LINK, quantity="1000")
    assert_answer(panel, key, "balance", {"balance": "2.20", "currency": "EUR"})
    assert panel.call(key, "status", order=order)["currency"] == "EUR"


# subscriptions

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def test_subscriptions_list_drip_feeds_newest_first(panel: Panel) -> None:
    key = panel.customer(balance="10")
    service = panel.service(rate="0.90")
    done = add(panel, key, service, link="https://t.me/a", quantity="100", runs="5", interval="60")
    add(panel, key, service, link="https://t.me/plain", quantity="1000")
    active = add(panel, key, service, link="https://t.me/b", quantity="200", runs="3", interval="1440")
    canceled = add(panel, key, service, link="https://t.me/c", quantity="50", runs="2", interval="30")
    panel.update_order(done, "Completed")
    panel.call(key, "cancel", order=canceled)
    answer = panel.call(key, "subscriptions")
    stamps = [item.pop("created_at") for item in answer]
    assert typed(answer) == typed(
        [
            {
                "id": canceled,
                "service": service,
                "link": "https://t.me/c",
                "quantity": 50,
                "runs": 2,
                "interval": 30,
                "remaining_runs": 0,
                "status": "Canceled",
            },
            {
                "id": active,
                "service": service,
                "link": "https://t.me/b",
                "quantity": 200,
                "runs": 3,
                "interval": 1440,
                "remaining_runs": 3,
                "status": "Active",
            },
            {
                "id": done,
                "service": service,
                "link": "https://t.me/a",
                "quantity": 100,
                "runs": 5,
                "interval": 60,
                "remaining_runs": 0,
                "status": "Completed",
            },
        ]
    )
    assert all(ISO_UTC.match(stamp) for stamp in stamps), stamps
    now = datetime.now(UTC)
    for stamp in stamps:
        assert abs(datetime.fromisoformat(stamp.replace("Z", "+00:00")) - now) < timedelta(minutes=5)
    assert panel.balance() == "8.11"


def test_subscriptions_are_empty_without_drip_feeds(panel: Panel) -> None:
    key = panel.customer()
    add(panel, key, panel.service(), link=LINK, quantity="100")
    assert_answer(panel, key, "subscriptions", [])


# authentication and actions


def disable(panel: Panel, username: str) -> None:
    panel.run(lambda db: accounts.set_disabled(db, username, True))


@pytest.mark.parametrize("key", [None, "", "unknown-key-0123456789abcdef", "disabled"])
def test_missing_unknown_or_disabled_key_is_invalid(panel: Panel, key: str | None) -> None:
    panel.customer("alice", balance="10")
    panel.service()
    if key == "disabled":
        key = panel.customer("mallory", balance="10")
        assert panel.call(key, "balance") == {"balance": "10.00", "currency": "USD"}
        disable(panel, "mallory")
    params = {"action": "services"} if key is None else {"key": key, "action": "services"}
    response = panel.post(**params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.content == b'{"error":"Invalid API key"}'


@pytest.mark.parametrize("action", [None, "", "Balance", "refunds", "add "])
def test_missing_or_unknown_action_is_incorrect_request(panel: Panel, action: str | None) -> None:
    key = panel.customer()
    params = {"key": key} if action is None else {"key": key, "action": action}
    response = panel.post(**params)
    assert response.status_code == 200
    assert response.json() == {"error": "Incorrect request"}


def test_an_invalid_key_is_reported_before_an_unknown_action(panel: Panel) -> None:
    assert panel.post(key="nope", action="nope").json() == {"error": "Invalid API key"}
