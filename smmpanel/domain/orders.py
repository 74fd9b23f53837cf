"""Orders: what each service type asks for, what it costs, and how its status may move."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from smmpanel.domain import messages as msg
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.errors import Refused
from smmpanel.money import Units, per_thousand_charge, proportional_refund

MAX_LINK_LENGTH = 2048
MAX_RUNS = 1000
MAX_INTERVAL_MINUTES = 60 * 24 * 30
SUBSCRIPTION_DELAYS = frozenset(
    (0, 5, 10, 15, 20, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540, 600)
)
_WHOLE = re.compile(r"^\d{1,18}$", re.ASCII)


class OrderStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    PARTIAL = "Partial"
    CANCELED = "Canceled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


ACTIVE_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.IN_PROGRESS, OrderStatus.PROCESSING})
FINAL_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.PARTIAL, OrderStatus.CANCELED})
REFILLABLE_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.PARTIAL})


@dataclass(frozen=True, slots=True)
class OrderProgress:
    """What a status call answers of an order: all that API v2's polling reads."""

    charge: Units
    start_count: int
    status: OrderStatus
    remains: int


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A placement that passed every rule of its service type and is ready to be charged.

    ``quantity`` is what one run delivers (one package for Package services);
    ``details`` holds the type's own fields (comments, usernames, hashtag …).
    """

    link: str
    quantity: int
    charge: Units
    runs: int | None = None
    interval: int | None = None
    details: dict[str, object] = field(default_factory=dict)

    @property
    def ordered(self) -> int:
        """Units the customer paid for, all runs together: the base of every refund."""
        return self.quantity * (self.runs or 1)


def parse_whole(text: str | None) -> int | None:
    """A non-negative whole number written in digits, or None when it is anything else."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if _WHOLE.match(text) else None


def _given(params: Mapping[str, str], name: str) -> str | None:
    """An optional parameter; an empty value counts as absent, as reseller scripts send them."""
    value = params.get(name)
    if value is None or value.strip() == "":
        return None
    return value


def _lines(text: str | None) -> list[str]:
    if text is None:
        return []
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Invisible characters that reorder the text around them: ``https://x/\u202egnp.exe`` reads
``https://x/exe.png``. They would make the operator read a link or a name other than the real one."""


def has_bidi_controls(text: str) -> bool:
    return not BIDI_CONTROLS.isdisjoint(text)


_NOT_IN_A_LINK = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
r"""Whitespace (``str.isspace``, which ``\s`` is) and the control characters (category Cc: C0, DEL
and C1): never in a link. One search instead of a look at each character (every ``add`` asks)."""


def _link(params: Mapping[str, str]) -> str:
    link = (params.get("link") or "").strip()
    if not link or len(link) > MAX_LINK_LENGTH or _NOT_IN_A_LINK.search(link):
        raise Refused(msg.INCORRECT_LINK)
    if has_bidi_controls(link):
        raise Refused(msg.INCORRECT_LINK)
    return link


def valid_link(text: str) -> str:
    """A link as ``add`` accepts it (trimmed), or ``Refused`` with the contract's text."""
    return _link({"link": text})


def _in_range(quantity: int | None, service: Service) -> int:
    if quantity is None:
        raise Refused(msg.INCORRECT_QUANTITY)
    if quantity < service.min:
        raise Refused(msg.quantity_below_min(service.min))
    if quantity > service.max:
        raise Refused(msg.quantity_above_max(service.max))
    return quantity


def _required_text(params: Mapping[str, str], name: str, error: str) -> str:
    value = _given(params, name)
    if value is None or len(value) > MAX_LINK_LENGTH or has_bidi_controls(value):
        raise Refused(error)
    return value.strip()


def _drip_feed(params: Mapping[str, str]) -> tuple[int | None, int | None]:
    runs_text, interval_text = _given(params, "runs"), _given(params, "interval")
    if runs_text is None and interval_text is None:
        return None, None
    runs = parse_whole(runs_text)
    if runs is None or not 1 <= runs <= MAX_RUNS:
        raise Refused(msg.INCORRECT_RUNS)
    interval = parse_whole(interval_text)
    if interval is None or not 1 <= interval <= MAX_INTERVAL_MINUTES:
        raise Refused(msg.INCORRECT_INTERVAL)
    return runs, interval


def _subscription(service: Service, params: Mapping[str, str], today: date) -> OrderRequest:
    username = _required_text(params, "username", msg.INCORRECT_USERNAME)
    if any(ch.isspace() for ch in username):
        raise Refused(msg.INCORRECT_USERNAME)
    low = parse_whole(_given(params, "min"))
    if low is None or not service.min <= low <= service.max:
        raise Refused(msg.INCORRECT_MIN)
    high = parse_whole(_given(params, "max"))
    if high is None or not low <= high <= service.max:
        raise Refused(msg.INCORRECT_MAX)
    delay = parse_whole(_given(params, "delay"))
    if delay not in SUBSCRIPTION_DELAYS:
        raise Refused(msg.INCORRECT_DELAY)
    details: dict[str, object] = {"username": username, "min": low, "max": high, "delay": delay}
    posts_text = _given(params, "posts")
    if posts_text is not None:
        posts = parse_whole(posts_text)
        if not posts:
            raise Refused(msg.INCORRECT_POSTS)
        details["posts"] = posts
    old_posts_text = _given(params, "old_posts")
    if old_posts_text is not None:
        old_posts = parse_whole(old_posts_text)
        if old_posts is None or old_posts > 1000:
            raise Refused(msg.INCORRECT_OLD_POSTS)
        details["old_posts"] = old_posts
    expiry_text = _given(params, "expiry")
    if expiry_text is not None:
        try:
            expiry = datetime.strptime(expiry_text.strip(), "%d/%m/%Y").date()
        except ValueError:
            raise Refused(msg.INCORRECT_EXPIRY) from None
        if expiry < today:
            raise Refused(msg.INCORRECT_EXPIRY)
        details["expiry"] = expiry.isoformat()
    # Nothing is charged up front: each delivered post is charged when it is recorded.
    return OrderRequest(link=username, quantity=0, charge=0, details=details)


def build_order_request(service: Service, params: Mapping[str, str], today: date) -> OrderRequest:
    """Check an ``add`` against its service type; raise ``Refused`` with the contract's text.

    Runs before any money moves, so a refused order leaves no trace.
    """
    kind = service.type
    if kind is ServiceType.SUBSCRIPTIONS:
        return _subscription(service, params, today)
    link = _link(params)
    details: dict[str, object] = {}
    runs = interval = None
    if kind is ServiceType.PACKAGE:
        return OrderRequest(link=link, quantity=1, charge=service.rate)
    if kind is ServiceType.CUSTOM_COMMENTS:
        comments = _lines(_given(params, "comments"))
        if not comments:
            raise Refused(msg.INCORRECT_COMMENTS)
        quantity = _in_range(len(comments), service)
        details["comments"] = comments
    elif kind is ServiceType.MENTIONS_CUSTOM_LIST:
        usernames = _lines(_given(params, "usernames"))
        if not usernames or any(has_bidi_controls(name) for name in usernames):
            raise Refused(msg.INCORRECT_USERNAMES)
        quantity = _in_range(len(usernames), service)
        details["usernames"] = usernames
    else:
        quantity = _in_range(parse_whole(params.get("quantity")), service)
        if kind is ServiceType.DEFAULT:
            runs, interval = _drip_feed(params)
        elif kind is ServiceType.MENTIONS_HASHTAG:
            details["hashtag"] = _required_text(params, "hashtag", msg.INCORRECT_HASHTAG)
        elif kind in (ServiceType.MENTIONS_USER_FOLLOWERS, ServiceType.COMMENT_LIKES):
            details["username"] = _required_text(params, "username", msg.INCORRECT_USERNAME)
        elif kind is ServiceType.POLL:
            answer = parse_whole(_given(params, "answer_number"))
            if not answer:
                raise Refused(msg.INCORRECT_ANSWER_NUMBER)
            details["answer_number"] = answer
    charge = per_thousand_charge(service.rate, quantity * (runs or 1))
    return OrderRequest(link, quantity, charge, runs, interval, details)


def subscription_post_charge(service: Service, details: Mapping[str, object], quantity: int) -> Units:
    """What one delivered post of a subscription costs; its size must lie in the order's min..max."""
    low, high = details.get("min"), details.get("max")
    if not isinstance(low, int) or not isinstance(high, int) or not low <= quantity <= high:
        raise Refused(msg.INCORRECT_QUANTITY)
    return per_thousand_charge(service.rate, quantity)


def check_status_change(current: OrderStatus, new: OrderStatus) -> None:
    """A finished order stays finished: its refund, if any, has already been paid."""
    if current.is_final and new is not current:
        raise Refused("Order is already %(status)s", status=current.value)


def refund_for(status: OrderStatus, charge: Units, remains: int, ordered: int) -> Units:
    """What an order that just reached ``status`` gives back; the contract's rounding (down)."""
    if status is OrderStatus.CANCELED:
        return charge
    if status is OrderStatus.PARTIAL and ordered > 0:
        return proportional_refund(charge, remains, ordered)
    return 0


def check_cancel_allowed(service: Service, status: OrderStatus) -> None:
    if not service.cancel:
        raise Refused(msg.CANCEL_NOT_AVAILABLE)
    if status.is_final:
        raise Refused(msg.CANCEL_NOT_AVAILABLE_FOR_ORDER)


@dataclass(frozen=True, slots=True)
class Order:
    """An order as stored: what was bought, what it cost, and how far delivery got."""

    id: int
    user_id: int
    service_id: int
    link: str
    quantity: int
    runs: int | None
    interval: int | None
    runs_done: int
    details: dict[str, object]
    charge: Units
    refunded: Units
    status: OrderStatus
    start_count: int
    remains: int
    cancel_requested: bool
    created_at: datetime
    finished_at: datetime | None
    provider_id: int | None = None
    provider_order_id: str | None = None
    upstream_charge: Units | None = None
    dispatch: str | None = None
    attention_reason: str | None = None
    cancel_state: str | None = None
    parent_id: int | None = None
    stopped_at: datetime | None = None
    attempts: int = 0

    @property
    def ordered(self) -> int:
        return self.quantity * (self.runs or 1)

    @property
    def stopped(self) -> bool:
        """A drip-feed the customer stopped: it places no more runs."""
        return self.stopped_at is not None
