"""Order rules by service type (API contract, "add, by service type"), statuses and refunds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.domain import messages as msg
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.domain.orders import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    MAX_INTERVAL_MINUTES,
    MAX_LINK_LENGTH,
    MAX_RUNS,
    OrderRequest,
    OrderStatus,
    build_order_request,
    check_cancel_allowed,
    check_status_change,
    parse_whole,
    refund_for,
    subscription_post_charge,
)
from smmpanel.errors import Refused
from smmpanel.money import parse_amount, per_thousand_charge

TODAY = date(2030, 6, 15)
LINK = "https://instagram.test/p/abc"


def service(kind: ServiceType = ServiceType.DEFAULT, **terms: object) -> Service:
    base = Service(
        id=1,
        name="Followers",
        category="Instagram",
        type=kind,
        rate=parse_amount("0.90"),
        min=50,
        max=10_000,
        refill=True,
        cancel=True,
        description="",
        enabled=True,
        refill_days=30,
        deny_duplicate_link=False,
    )
    return replace(base, **terms)  # type: ignore[arg-type]


def build(
    kind: ServiceType, today: date = TODAY, terms: dict[str, object] | None = None, **params: str
) -> OrderRequest:
    return build_order_request(service(kind, **(terms or {})), params, today)


def refused(kind: ServiceType, terms: dict[str, object] | None = None, **params: str) -> str:
    with pytest.raises(Refused) as caught:
        build(kind, terms=terms, **params)
    return caught.value.message


# --- parse_whole -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("42", 42), (" 7 ", 7), ("007", 7)])
def test_parse_whole_reads_digits(text: str, value: int) -> None:
    assert parse_whole(text) == value


@pytest.mark.parametrize("text", [None, "", " ", "-1", "+1", "1.0", "1e3", "abc", "1 000", "١٢", "１２", "9" * 19])
def test_parse_whole_refuses_everything_else(text: str | None) -> None:
    assert parse_whole(text) is None


# --- Default ---------------------------------------------------------------------------


def test_default_order_is_charged_per_thousand() -> None:
    request = build(ServiceType.DEFAULT, link=f"  {LINK} ", quantity="1000")
    assert request == OrderRequest(link=LINK, quantity=1000, charge=parse_amount("0.90"))
    assert request.ordered == 1000


def test_default_charge_rounds_half_up() -> None:
    # 0.00123 × 1001 / 1000 = 0.00123123 → 0.00123; 0.00005 × 100 / 1000 = 0.000005 → 0.00001
    assert build(ServiceType.DEFAULT, terms={"rate": 123, "min": 1}, link=LINK, quantity="1001").charge == 123
    assert build(ServiceType.DEFAULT, terms={"rate": 5, "min": 1}, link=LINK, quantity="100").charge == 1


@pytest.mark.parametrize("quantity", ["50", "10000", " 500 "])
def test_default_quantity_bounds_are_inclusive(quantity: str) -> None:
    assert build(ServiceType.DEFAULT, link=LINK, quantity=quantity).quantity == int(quantity)


@pytest.mark.parametrize(
    ("quantity", "error"),
    [
        (None, msg.INCORRECT_QUANTITY),
        ("", msg.INCORRECT_QUANTITY),
        ("abc", msg.INCORRECT_QUANTITY),
        ("100.5", msg.INCORRECT_QUANTITY),
        ("1e3", msg.INCORRECT_QUANTITY),
        ("-100", msg.INCORRECT_QUANTITY),
        ("0", "Quantity less than minimal 50"),
        ("49", "Quantity less than minimal 50"),
        ("10001", "Quantity more than maximum 10000"),
        ("9" * 18, "Quantity more than maximum 10000"),
    ],
)
def test_default_quantity_errors(quantity: str | None, error: str) -> None:
    params = {"link": LINK} if quantity is None else {"link": LINK, "quantity": quantity}
    assert refused(ServiceType.DEFAULT, **params) == error


def test_quantity_messages_match_the_contract_texts() -> None:
    assert msg.quantity_below_min(50) == "Quantity less than minimal 50"
    assert msg.quantity_above_max(10000) == "Quantity more than maximum 10000"


@pytest.mark.parametrize(
    "link",
    [None, "", "   ", "https://x.test/a b", "https://x.test/\x00a", "https://x.test/\ta", "h" * (MAX_LINK_LENGTH + 1)],
)
def test_bad_links_are_refused(link: str | None) -> None:
    params = {"quantity": "100"} if link is None else {"link": link, "quantity": "100"}
    assert refused(ServiceType.DEFAULT, **params) == msg.INCORRECT_LINK


def test_longest_link_is_accepted() -> None:
    link = "https://x.test/" + "a" * (MAX_LINK_LENGTH - 15)
    assert build(ServiceType.DEFAULT, link=link, quantity="100").link == link


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_default_accepts_exactly_the_quantities_in_range(quantity: int, rate: int) -> None:
    svc = service(rate=rate, min=100, max=5000)
    params = {"link": LINK, "quantity": str(quantity)}
    if 100 <= quantity <= 5000:
        request = build_order_request(svc, params, TODAY)
        assert request.charge == per_thousand_charge(rate, quantity)
    else:
        with pytest.raises(Refused):
            build_order_request(svc, params, TODAY)


# --- drip-feed -------------------------------------------------------------------------


def test_drip_feed_is_charged_for_every_run_up_front() -> None:
    request = build(ServiceType.DEFAULT, link=LINK, quantity="1000", runs="3", interval="60")
    assert (request.quantity, request.runs, request.interval) == (1000, 3, 60)
    assert request.charge == parse_amount("2.70")  # 0.90 × 1000 × 3 / 1000
    assert request.ordered == 3000


def test_drip_feed_charge_rounds_the_whole_not_each_run() -> None:
    # 0.0001 × 50 × 3 / 1000 = 1.5 units → 2; rounding each run (0.5 → 1) would charge 3
    request = build(ServiceType.DEFAULT, terms={"rate": 10}, link=LINK, quantity="50", runs="3", interval="5")
    assert request.charge == per_thousand_charge(10, 150) == 2


def test_drip_feed_limits_are_inclusive() -> None:
    request = build(
        ServiceType.DEFAULT, link=LINK, quantity="50", runs=str(MAX_RUNS), interval=str(MAX_INTERVAL_MINUTES)
    )
    assert (request.runs, request.interval) == (MAX_RUNS, MAX_INTERVAL_MINUTES)


@pytest.mark.parametrize("blank", ["", "  "])
def test_empty_drip_feed_params_are_absent(blank: str) -> None:
    request = build(ServiceType.DEFAULT, link=LINK, quantity="1000", runs=blank, interval=blank)
    assert (request.runs, request.interval, request.charge) == (None, None, parse_amount("0.90"))


@pytest.mark.parametrize(
    ("runs", "interval", "error"),
    [
        ("3", None, msg.INCORRECT_INTERVAL),
        ("3", "", msg.INCORRECT_INTERVAL),
        (None, "60", msg.INCORRECT_RUNS),
        ("", "60", msg.INCORRECT_RUNS),
        ("0", "60", msg.INCORRECT_RUNS),
        (str(MAX_RUNS + 1), "60", msg.INCORRECT_RUNS),
        ("x", "60", msg.INCORRECT_RUNS),
        ("2.5", "60", msg.INCORRECT_RUNS),
        ("3", "0", msg.INCORRECT_INTERVAL),
        ("3", str(MAX_INTERVAL_MINUTES + 1), msg.INCORRECT_INTERVAL),
        ("3", "-5", msg.INCORRECT_INTERVAL),
    ],
)
def test_drip_feed_errors(runs: str | None, interval: str | None, error: str) -> None:
    params = {"link": LINK, "quantity": "1000"}
    if runs is not None:
        params["runs"] = runs
    if interval is not None:
        params["interval"] = interval
    assert refused(ServiceType.DEFAULT, **params) == error


# --- Package ---------------------------------------------------------------------------


def test_package_is_one_package_at_the_rate() -> None:
    request = build(ServiceType.PACKAGE, terms={"rate": parse_amount("2.50"), "min": 1, "max": 1}, link=LINK)
    assert request == OrderRequest(link=LINK, quantity=1, charge=parse_amount("2.50"))


def test_package_ignores_a_quantity() -> None:
    request = build(ServiceType.PACKAGE, terms={"min": 1, "max": 1}, link=LINK, quantity="5000")
    assert (request.quantity, request.charge) == (1, parse_amount("0.90"))


def test_package_needs_a_link() -> None:
    assert refused(ServiceType.PACKAGE, quantity="1") == msg.INCORRECT_LINK


# --- Custom Comments / Mentions Custom List --------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field", "error"),
    [
        (ServiceType.CUSTOM_COMMENTS, "comments", msg.INCORRECT_COMMENTS),
        (ServiceType.MENTIONS_CUSTOM_LIST, "usernames", msg.INCORRECT_USERNAMES),
    ],
)
class TestOneItemPerLine:
    terms: ClassVar[dict[str, object]] = {"min": 1, "max": 5, "rate": parse_amount("12.00")}

    def test_lines_are_counted_without_blanks(self, kind: ServiceType, field: str, error: str) -> None:
        text = "first one\r\n\r\n  second  \n\n   \nthird\r\n"
        request = build(kind, terms=self.terms, link=LINK, **{field: text})
        assert request.quantity == 3
        assert request.details == {field: ["first one", "second", "third"]}
        assert request.charge == parse_amount("0.036")  # 12.00 × 3 / 1000

    def test_quantity_param_is_ignored(self, kind: ServiceType, field: str, error: str) -> None:
        request = build(kind, terms=self.terms, link=LINK, quantity="4", **{field: "a\nb"})
        assert request.quantity == 2

    @pytest.mark.parametrize("text", [None, "", "   ", "\n\n", "\r\n \r\n"])
    def test_nothing_to_post_is_refused(self, kind: ServiceType, field: str, error: str, text: str | None) -> None:
        params = {"link": LINK} if text is None else {"link": LINK, field: text}
        assert refused(kind, terms=self.terms, **params) == error

    def test_too_many_lines(self, kind: ServiceType, field: str, error: str) -> None:
        assert refused(kind, terms=self.terms, link=LINK, **{field: "a\nb\nc\nd\ne\nf"}) == msg.quantity_above_max(5)

    def test_too_few_lines(self, kind: ServiceType, field: str, error: str) -> None:
        terms = {**self.terms, "min": 3}
        assert refused(kind, terms=terms, link=LINK, **{field: "a\n\nb\n"}) == msg.quantity_below_min(3)

    def test_link_is_still_required(self, kind: ServiceType, field: str, error: str) -> None:
        assert refused(kind, terms=self.terms, **{field: "a"}) == msg.INCORRECT_LINK


# --- the quantity types with one extra field -------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field", "value", "stored", "error"),
    [
        (ServiceType.MENTIONS_HASHTAG, "hashtag", " #travel ", "#travel", msg.INCORRECT_HASHTAG),
        (ServiceType.MENTIONS_USER_FOLLOWERS, "username", "natgeo", "natgeo", msg.INCORRECT_USERNAME),
        (ServiceType.COMMENT_LIKES, "username", "commenter_1", "commenter_1", msg.INCORRECT_USERNAME),
        (ServiceType.POLL, "answer_number", "2", 2, msg.INCORRECT_ANSWER_NUMBER),
    ],
)
class TestQuantityPlusOneField:
    def test_accepted(self, kind: ServiceType, field: str, value: str, stored: object, error: str) -> None:
        request = build(kind, link=LINK, quantity="2000", **{field: value})
        assert (request.link, request.quantity, request.runs, request.interval) == (LINK, 2000, None, None)
        assert request.details == {field: stored}
        assert request.charge == parse_amount("1.80")

    @pytest.mark.parametrize("given_value", [None, "", "   "])
    def test_missing_or_empty_field(
        self, kind: ServiceType, field: str, value: str, stored: object, error: str, given_value: str | None
    ) -> None:
        params = {"link": LINK, "quantity": "2000"}
        if given_value is not None:
            params[field] = given_value
        assert refused(kind, **params) == error

    def test_quantity_rules_apply(self, kind: ServiceType, field: str, value: str, stored: object, error: str) -> None:
        assert refused(kind, link=LINK, quantity="10", **{field: value}) == msg.quantity_below_min(50)
        assert refused(kind, link=LINK, **{field: value}) == msg.INCORRECT_QUANTITY

    def test_link_required(self, kind: ServiceType, field: str, value: str, stored: object, error: str) -> None:
        assert refused(kind, quantity="2000", **{field: value}) == msg.INCORRECT_LINK


@pytest.mark.parametrize("answer", ["0", "x", "-1", "1.5"])
def test_poll_answer_must_be_a_positive_number(answer: str) -> None:
    assert refused(ServiceType.POLL, link=LINK, quantity="100", answer_number=answer) == msg.INCORRECT_ANSWER_NUMBER


# --- Subscriptions ---------------------------------------------------------------------

SUBS = {"min": 100, "max": 50_000, "rate": parse_amount("0.40")}


def subscription(**params: str) -> OrderRequest:
    base = {"username": "channel_x", "min": "100", "max": "500", "delay": "30"}
    return build(ServiceType.SUBSCRIPTIONS, terms=SUBS, **{**base, **params})


def subscription_refused(**params: str | None) -> str:
    base: dict[str, str | None] = {"username": "channel_x", "min": "100", "max": "500", "delay": "30"}
    merged = {k: v for k, v in {**base, **params}.items() if v is not None}
    return refused(ServiceType.SUBSCRIPTIONS, terms=SUBS, **merged)  # type: ignore[arg-type]


def test_subscription_needs_no_link_and_charges_nothing_up_front() -> None:
    request = subscription()
    assert request == OrderRequest(
        link="channel_x",
        quantity=0,
        charge=0,
        details={"username": "channel_x", "min": 100, "max": 500, "delay": 30},
    )


def test_subscription_optional_fields() -> None:
    request = subscription(posts="10", old_posts="0", expiry="31/12/2030")
    assert request.details["posts"] == 10
    assert request.details["old_posts"] == 0
    assert request.details["expiry"] == "2030-12-31"
    assert subscription(old_posts="1000").details["old_posts"] == 1000


def test_subscription_empty_optional_fields_are_absent() -> None:
    request = subscription(posts="", old_posts=" ", expiry="")
    assert set(request.details) == {"username", "min", "max", "delay"}


@pytest.mark.parametrize("delay", sorted({0, 5, 10, 15, 20, 30, 60, 90, 600}))
def test_subscription_delays(delay: int) -> None:
    assert subscription(delay=str(delay)).details["delay"] == delay


def test_subscription_min_may_equal_max_and_the_service_bounds() -> None:
    assert subscription(min="100", max="100").details["max"] == 100
    assert subscription(min="50000", max="50000").details["min"] == 50_000


def test_subscription_expiry_today_is_accepted() -> None:
    assert subscription(expiry=TODAY.strftime("%d/%m/%Y")).details["expiry"] == TODAY.isoformat()


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"username": None}, msg.INCORRECT_USERNAME),
        ({"username": ""}, msg.INCORRECT_USERNAME),
        ({"username": "two words"}, msg.INCORRECT_USERNAME),
        ({"min": None}, msg.INCORRECT_MIN),
        ({"min": "99"}, msg.INCORRECT_MIN),  # below the service's min
        ({"min": "50001", "max": "50001"}, msg.INCORRECT_MIN),  # above the service's max
        ({"min": "abc"}, msg.INCORRECT_MIN),
        ({"max": None}, msg.INCORRECT_MAX),
        ({"min": "300", "max": "200"}, msg.INCORRECT_MAX),
        ({"max": "50001"}, msg.INCORRECT_MAX),
        ({"max": "1.5"}, msg.INCORRECT_MAX),
        ({"delay": None}, msg.INCORRECT_DELAY),
        ({"delay": ""}, msg.INCORRECT_DELAY),
        ({"delay": "7"}, msg.INCORRECT_DELAY),
        ({"delay": "45"}, msg.INCORRECT_DELAY),
        ({"delay": "-5"}, msg.INCORRECT_DELAY),
        ({"posts": "0"}, msg.INCORRECT_POSTS),
        ({"posts": "x"}, msg.INCORRECT_POSTS),
        ({"posts": "-1"}, msg.INCORRECT_POSTS),
        ({"old_posts": "1001"}, msg.INCORRECT_OLD_POSTS),
        ({"old_posts": "x"}, msg.INCORRECT_OLD_POSTS),
        ({"expiry": "14/06/2030"}, msg.INCORRECT_EXPIRY),  # yesterday
        ({"expiry": "2030-12-31"}, msg.INCORRECT_EXPIRY),
        ({"expiry": "12/31/2030"}, msg.INCORRECT_EXPIRY),  # m/d/Y
        ({"expiry": "31/02/2031"}, msg.INCORRECT_EXPIRY),
        ({"expiry": "tomorrow"}, msg.INCORRECT_EXPIRY),
    ],
)
def test_subscription_errors(params: dict[str, str | None], error: str) -> None:
    assert subscription_refused(**params) == error


def test_subscription_post_charge_within_min_and_max() -> None:
    svc = service(ServiceType.SUBSCRIPTIONS, **SUBS)
    details = subscription().details
    assert subscription_post_charge(svc, details, 100) == per_thousand_charge(svc.rate, 100)
    assert subscription_post_charge(svc, details, 500) == parse_amount("0.20")
    for quantity in (99, 501):
        with pytest.raises(Refused, match=f"^{msg.INCORRECT_QUANTITY}$"):
            subscription_post_charge(svc, details, quantity)
    with pytest.raises(Refused):
        subscription_post_charge(svc, {}, 100)


def test_expiry_is_checked_against_the_given_day() -> None:
    svc = service(ServiceType.SUBSCRIPTIONS, **SUBS)
    params = {"username": "u_1", "min": "100", "max": "100", "delay": "0", "expiry": "15/06/2030"}
    assert build_order_request(svc, params, TODAY)
    with pytest.raises(Refused, match=msg.INCORRECT_EXPIRY):
        build_order_request(svc, params, TODAY + timedelta(days=1))


# --- statuses --------------------------------------------------------------------------


def test_status_sets() -> None:
    assert set(OrderStatus) == ACTIVE_STATUSES | FINAL_STATUSES
    assert not ACTIVE_STATUSES & FINAL_STATUSES
    assert {s.value for s in OrderStatus} == {
        "Pending",
        "In progress",
        "Processing",
        "Completed",
        "Partial",
        "Canceled",
    }
    assert [s for s in OrderStatus if s.is_final] == [OrderStatus.COMPLETED, OrderStatus.PARTIAL, OrderStatus.CANCELED]


@pytest.mark.parametrize("current", sorted(ACTIVE_STATUSES))
@pytest.mark.parametrize("new", list(OrderStatus))
def test_active_orders_may_move_anywhere(current: OrderStatus, new: OrderStatus) -> None:
    check_status_change(current, new)


@pytest.mark.parametrize("current", sorted(FINAL_STATUSES))
@pytest.mark.parametrize("new", list(OrderStatus))
def test_final_stays_final(current: OrderStatus, new: OrderStatus) -> None:
    if new is current:
        check_status_change(current, new)
        return
    with pytest.raises(Refused, match=f"^Order is already {current.value}$"):
        check_status_change(current, new)


# --- refunds ---------------------------------------------------------------------------


def test_refund_for_each_status() -> None:
    charge = parse_amount("1.23457")
    assert refund_for(OrderStatus.CANCELED, charge, 1000, 1000) == charge
    assert refund_for(OrderStatus.CANCELED, charge, 0, 1000) == charge
    assert refund_for(OrderStatus.PARTIAL, charge, 4, 1000) == 493  # 493.828 rounded down
    assert refund_for(OrderStatus.PARTIAL, charge, 1000, 1000) == charge
    assert refund_for(OrderStatus.PARTIAL, charge, 0, 1000) == 0
    assert refund_for(OrderStatus.PARTIAL, charge, 10, 0) == 0
    for status in (*ACTIVE_STATUSES, OrderStatus.COMPLETED):
        assert refund_for(status, charge, 500, 1000) == 0


@given(
    st.sampled_from(list(OrderStatus)),
    st.integers(min_value=0, max_value=10**15),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
)
def test_refund_never_exceeds_the_charge(status: OrderStatus, charge: int, remains: int, ordered: int) -> None:
    assert 0 <= refund_for(status, charge, remains, ordered) <= charge


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=1, max_value=10**5), st.data())
def test_partial_refund_of_a_real_order_is_bounded(rate: int, quantity: int, data: st.DataObject) -> None:
    request = build_order_request(
        service(rate=rate, min=1, max=10**5), {"link": LINK, "quantity": str(quantity)}, TODAY
    )
    remains = data.draw(st.integers(min_value=0, max_value=request.ordered))
    refund = refund_for(OrderStatus.PARTIAL, request.charge, remains, request.ordered)
    assert 0 <= refund <= request.charge
    assert refund * request.ordered <= request.charge * remains < (refund + 1) * request.ordered


# --- cancel ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(OrderStatus))
def test_cancel_needs_a_cancelable_service(status: OrderStatus) -> None:
    with pytest.raises(Refused, match=f"^{msg.CANCEL_NOT_AVAILABLE}$"):
        check_cancel_allowed(service(cancel=False), status)


@pytest.mark.parametrize("status", list(OrderStatus))
def test_cancel_only_while_active(status: OrderStatus) -> None:
    if status in ACTIVE_STATUSES:
        check_cancel_allowed(service(cancel=True), status)
        return
    with pytest.raises(Refused, match=f"^{msg.CANCEL_NOT_AVAILABLE_FOR_ORDER}$"):
        check_cancel_allowed(service(cancel=True), status)
