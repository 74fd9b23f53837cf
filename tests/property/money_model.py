"""A tiny pure-Python model of the panel's money rules, and the operations that drive it.

The model knows nothing of smmpanel's code: charges and refunds are computed here with
``fractions.Fraction`` straight from the contract ("rate × quantity / 1000 rounded half-up",
"charge × remains / quantity rounded down"), and the order life cycle is written out from
the use cases' documented behaviour. A property test runs the same operations against a
real database and against this model, and expects the same figures to the last unit.

Operations name orders by a free number (``ref``); ``Model.resolve`` turns it into the
position of an existing order, so that the model and the database act on the same one.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import partial
from typing import Any

# Order statuses, dispatch states and refill statuses, as the contract spells them.
PENDING, IN_PROGRESS, PROCESSING = "Pending", "In progress", "Processing"
COMPLETED, PARTIAL, CANCELED = "Completed", "Partial", "Canceled"
STATUSES = (PENDING, IN_PROGRESS, PROCESSING, COMPLETED, PARTIAL, CANCELED)
FINAL = frozenset({COMPLETED, PARTIAL, CANCELED})
ACTIVE = frozenset({PENDING, IN_PROGRESS, PROCESSING})
QUEUED, SENT, DONE, FAILED, DRIPFEED, PLACED = "queued", "sent", "done", "failed", "dripfeed", "placed"
REFILL_STATUSES = ("Pending", "In progress", "Completed", "Rejected")
REFILL_FINAL = frozenset({"Completed", "Rejected"})

DEFAULT = "Default"
PACKAGE = "Package"
CUSTOM_COMMENTS = "Custom Comments"
MENTIONS_CUSTOM_LIST = "Mentions Custom List"
MENTIONS_HASHTAG = "Mentions Hashtag"
MENTIONS_USER_FOLLOWERS = "Mentions User Followers"
POLL = "Poll"
COMMENT_LIKES = "Comment Likes"
SUBSCRIPTIONS = "Subscriptions"
TYPES = (
    DEFAULT,
    PACKAGE,
    CUSTOM_COMMENTS,
    MENTIONS_CUSTOM_LIST,
    MENTIONS_HASHTAG,
    MENTIONS_USER_FOLLOWERS,
    POLL,
    COMMENT_LIKES,
    SUBSCRIPTIONS,
)
LIST_TYPES = frozenset({CUSTOM_COMMENTS, MENTIONS_CUSTOM_LIST})

USERNAMES = ("alice", "bob")
NOT_FOUND = "not found"
"""What an operator's use case raising ``NotFound`` is recorded as (its text names a database id)."""


def half_up(rate: int, quantity: int) -> int:
    """``rate × quantity / 1000`` in whole units, rounded half-up."""
    return math.floor(Fraction(rate * quantity, 1000) + Fraction(1, 2))


def share_down(charge: int, part: int, whole: int) -> int:
    """``charge × part / whole`` in whole units, rounded down."""
    return math.floor(Fraction(charge * part, whole))


# --- operations -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceSpec:
    type: str
    rate: int
    min: int
    max: int
    refill: bool
    cancel: bool
    forwarded: bool
    deny_duplicate_link: bool


@dataclass(frozen=True)
class Scenario:
    services: tuple[ServiceSpec, ...]
    opening: tuple[int, int]
    ops: tuple[object, ...]


@dataclass(frozen=True)
class Fund:
    user: int
    amount: int


@dataclass(frozen=True)
class Place:
    user: int
    service: int
    pick: int
    """Size: below 0 means one under the service's min, above 1000 one over its max, else a share of the range."""
    runs: int | None
    interval: int
    link: int
    spread: int = 0
    """Subscriptions: where the order's max lies between its min and the service's max (0 … 1000)."""


@dataclass(frozen=True)
class Update:
    ref: int
    status: str | None
    remains: int | None
    """A free number, folded into -1 … ordered + 1 (so both ends are tried, and one step beyond)."""
    start_count: int | None


@dataclass(frozen=True)
class Cancel:
    user: int | None
    """The customer who asks; None for the owner of the first order named."""
    refs: tuple[int | None, ...]
    """None names an order that does not exist."""


@dataclass(frozen=True)
class RequestRefill:
    user: int | None
    """The customer who asks; None for the order's owner."""
    ref: int


@dataclass(frozen=True)
class SettleRefill:
    ref: int
    status: str


@dataclass(frozen=True)
class Stop:
    ref: int
    user: int | None
    """The customer who asks; None for the operator."""


@dataclass(frozen=True)
class PlaceRun:
    ref: int


@dataclass(frozen=True)
class Send:
    """One engine pass over every queued order: each accepted or refused by the provider, in turn."""

    accept: tuple[bool, ...]


@dataclass(frozen=True)
class Upstream:
    ref: int
    status: str
    remains: int | None
    start_count: int | None


@dataclass(frozen=True)
class Post:
    ref: int
    pick: int


def fold_remains(pick: int, ordered: int) -> int:
    return pick % (ordered + 3) - 1


def size(spec: ServiceSpec, pick: int, low: int | None = None, high: int | None = None) -> int:
    low = spec.min if low is None else low
    high = spec.max if high is None else high
    if pick < 0:
        return low - 1
    if pick > 1000:
        return high + 1
    return low + (high - low) * pick // 1000


def subscription_bounds(spec: ServiceSpec, pick: int, spread: int) -> tuple[int, int]:
    """The order's min and max size of a post: always valid."""
    low = spec.min + (spec.max - spec.min) * max(0, min(pick, 1000)) // 1000
    high = low + (spec.max - low) * spread // 1000
    return low, high


# --- the model ------------------------------------------------------------------------


class Refused(Exception):
    pass


@dataclass
class MOrder:
    user: int
    service: int
    link: str
    quantity: int
    runs: int | None
    charge: int
    remains: int
    dispatch: str | None
    parent: int | None = None
    status: str = PENDING
    refunded: int = 0
    runs_done: int = 0
    stopped: bool = False
    finished: bool = False
    cancel_requested: bool = False
    bounds: tuple[int, int] | None = None

    @property
    def ordered(self) -> int:
        return self.quantity * (self.runs or 1)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def figures(self) -> tuple[object, ...]:
        return (
            self.status,
            self.charge,
            self.refunded,
            self.remains,
            self.quantity,
            self.runs_done,
            self.stopped,
            self.dispatch,
            self.cancel_requested,
        )


@dataclass
class MRefill:
    order: int
    status: str = "Pending"


@dataclass
class State:
    balances: list[int]
    orders: list[MOrder] = field(default_factory=list)
    refills: list[MRefill] = field(default_factory=list)


class Model:
    def __init__(self, scenario: Scenario) -> None:
        self.services = scenario.services
        self.state = State(list(scenario.opening))

    # resolution of free references ------------------------------------------------

    def _pick(self, ref: int, among: list[int]) -> int | None:
        if not among:
            among = list(range(len(self.state.orders)))
        return among[ref % len(among)] if among else None

    def resolve(self, op: object) -> object:
        """The operation with each ``ref`` replaced by an order's (or refill's) position; None to skip."""
        orders = self.state.orders
        # An even ref prefers the orders where the operation does something, an odd one takes any.
        focus = op.ref % 2 == 0 if isinstance(op, RequestRefill | Update | Upstream) else False
        if isinstance(op, RequestRefill):
            refillable = [i for i, o in enumerate(orders) if o.status in (COMPLETED, PARTIAL)] if focus else []
            target = self._pick(op.ref // 2, refillable)
            if target is None:
                return None
            return RequestRefill(orders[target].user if op.user is None else op.user, target)
        if isinstance(op, Update):
            target = self._pick(op.ref // 2, [i for i, o in enumerate(orders) if not o.final] if focus else [])
            return None if target is None else _replace(op, ref=target)
        if isinstance(op, Upstream):
            sent = [i for i, o in enumerate(orders) if o.dispatch == SENT and not o.final] if focus else []
            target = self._pick(op.ref // 2, sent)
            return None if target is None else _replace(op, ref=target)
        if isinstance(op, Stop | PlaceRun):
            target = self._pick(op.ref, [i for i, o in enumerate(orders) if o.runs is not None])
            return None if target is None else _replace(op, ref=target)
        if isinstance(op, Post):
            subscriptions = [i for i, o in enumerate(orders) if self.services[o.service].type == SUBSCRIPTIONS]
            target = self._pick(op.ref, subscriptions)
            return None if target is None else _replace(op, ref=target)
        if isinstance(op, SettleRefill):
            if not self.state.refills:
                return None
            return _replace(op, ref=op.ref % len(self.state.refills))
        if isinstance(op, Cancel):
            if not orders:
                return None
            refs = tuple(None if ref is None else ref % len(orders) for ref in op.refs)
            owner = next((orders[ref].user for ref in refs if ref is not None), 0)
            return Cancel(owner if op.user is None else op.user, refs)
        return op

    # applying -------------------------------------------------------------------------

    def apply(self, op: object) -> object:
        """The outcome the panel must answer; the state moves as the panel's must."""
        if isinstance(op, Cancel):
            return [(ref, self._atomic(partial(self._cancel, op.user, ref))) for ref in dict.fromkeys(op.refs)]
        return self._atomic(lambda: self._dispatch(op))

    def _atomic(self, step: Callable[[], object]) -> object:
        """Every use case is one transaction: a refusal leaves nothing behind."""
        saved = copy.deepcopy(self.state)
        try:
            return step()
        except Refused as refused:
            self.state = saved
            return str(refused)

    def _dispatch(self, op: object) -> object:
        if isinstance(op, Fund):
            return self._fund(op)
        if isinstance(op, Place):
            return self._place(op)
        if isinstance(op, Update):
            return self._update(op)
        if isinstance(op, RequestRefill):
            return self._refill(op)
        if isinstance(op, SettleRefill):
            refill = self.state.refills[op.ref]
            if refill.status in REFILL_FINAL and op.status != refill.status:
                raise Refused(f"Refill is already {refill.status}")
            refill.status = op.status
            return "ok"
        if isinstance(op, Stop):
            return self._stop(op)
        if isinstance(op, PlaceRun):
            return self._place_run(op.ref)
        if isinstance(op, Send):
            return self._send(op)
        if isinstance(op, Upstream):
            return self._upstream(op)
        if isinstance(op, Post):
            return self._post(op)
        raise AssertionError(op)

    def _move(self, user: int, amount: int) -> None:
        if self.state.balances[user] + amount < 0:
            raise Refused("Not enough funds on balance")
        self.state.balances[user] += amount

    def _fund(self, op: Fund) -> object:
        if op.amount == 0:
            raise Refused("amount must not be zero")
        if self.state.balances[op.user] + op.amount < 0:
            raise Refused(f"correction would take {USERNAMES[op.user]}'s balance below zero")
        self.state.balances[op.user] += op.amount
        return "ok"

    def _place(self, op: Place) -> object:
        spec = self.services[op.service]
        runs = None
        bounds = None
        link = f"https://x.test/p{op.link}"
        if spec.type == SUBSCRIPTIONS:
            bounds = subscription_bounds(spec, op.pick, op.spread)
            link = f"user{op.link}"
            quantity, charge = 0, 0
        elif spec.type == PACKAGE:
            quantity, charge = 1, spec.rate
        else:
            quantity = size(spec, op.pick)
            if spec.type in LIST_TYPES and quantity <= 0:
                raise Refused("Incorrect comments" if spec.type == CUSTOM_COMMENTS else "Incorrect usernames")
            if quantity < spec.min:
                raise Refused(f"Quantity less than minimal {spec.min}")
            if quantity > spec.max:
                raise Refused(f"Quantity more than maximum {spec.max}")
            if spec.type == DEFAULT and op.runs is not None:
                if not 1 <= op.runs <= 1000:
                    raise Refused("Incorrect runs")
                if not 1 <= op.interval <= 60 * 24 * 30:
                    raise Refused("Incorrect interval")
                runs = op.runs
            charge = half_up(spec.rate, quantity * (runs or 1))
        if spec.deny_duplicate_link and any(
            o.user == op.user and o.service == op.service and o.link == link and o.status in ACTIVE
            for o in self.state.orders
        ):
            raise Refused("You have active order with this link. Please wait until order being completed.")
        if bounds is not None and self.state.balances[op.user] < half_up(spec.rate, bounds[1]):
            raise Refused("Not enough funds on balance")
        self._move(op.user, -charge)
        dispatch = (DRIPFEED if runs else QUEUED) if spec.forwarded else None
        order = MOrder(op.user, op.service, link, quantity, runs, charge, quantity * (runs or 1), dispatch)
        order.bounds = bounds
        self.state.orders.append(order)
        return "ok"

    def _finish(self, index: int, status: str, remains: int, dispatch: str | None = None) -> None:
        """A status is recorded; the way into Partial or Canceled pays what is still owed."""
        order = self.state.orders[index]
        if order.final and status != order.status:
            raise Refused(f"Order is already {order.status}")
        if status in FINAL and not order.final:
            order.finished = True
            if dispatch is not None:
                order.dispatch = dispatch
            elif order.dispatch in (QUEUED, SENT, DRIPFEED, PLACED):
                order.dispatch = DONE  # a finished order is never sent (again) to a provider
            due = 0
            if self.services[order.service].type != SUBSCRIPTIONS:
                if status == CANCELED:
                    due = order.charge
                elif status == PARTIAL and order.ordered > 0:
                    due = share_down(order.charge, max(0, min(remains, order.ordered)), order.ordered)
            refund = max(0, due - order.refunded)
            order.refunded += refund
            self._move(order.user, refund)
        order.status = status
        order.remains = remains

    def _refresh(self, parent_index: int) -> None:
        parent = self.state.orders[parent_index]
        if parent.final or parent.runs is None:
            return
        children = [o for o in self.state.orders if o.parent == parent_index]
        ordered = parent.ordered
        remains = (parent.runs - parent.runs_done) * parent.quantity + sum(c.remains for c in children)
        remains = max(0, min(remains, ordered))
        if (parent.stopped or parent.runs_done >= parent.runs) and all(c.final for c in children):
            status = COMPLETED if remains == 0 else CANCELED if remains == ordered else PARTIAL
        else:
            status = IN_PROGRESS if children else PENDING
        self._finish(parent_index, status, remains)

    def _update(self, op: Update) -> object:
        order = self.state.orders[op.ref]
        status = op.status or order.status
        wanted = None if op.remains is None else fold_remains(op.remains, order.ordered)
        if wanted is not None and not 0 <= wanted <= order.ordered:
            raise Refused(f"remains must be between 0 and {order.ordered}")
        if order.final and wanted not in (None, order.remains):
            raise Refused(f"Order is already {order.status}")
        if status == COMPLETED:
            remains = 0
        elif status == CANCELED:
            remains = order.ordered
        else:
            remains = order.remains if wanted is None else wanted
        if op.start_count is not None and op.start_count < 0:
            raise Refused("start count must not be negative")
        self._finish(op.ref, status, remains)
        if order.parent is not None:
            self._refresh(order.parent)
        return "ok"

    def _cancel(self, user: int | None, ref: int | None) -> object:
        if ref is None or self.state.orders[ref].user != user:
            raise Refused("Incorrect order ID")
        order = self.state.orders[ref]
        if not self.services[order.service].cancel:
            raise Refused("Cancel not available for this service")
        if order.final or order.parent is not None:
            raise Refused("Cancel not available for this order")
        if order.status == PENDING and order.dispatch in (None, QUEUED, DRIPFEED):
            self._finish(ref, CANCELED, order.ordered, DONE if order.dispatch else None)
        else:
            order.cancel_requested = True
        return None

    def _refill(self, op: RequestRefill) -> object:
        order = self.state.orders[op.ref]
        assert op.user is not None
        if order.user != op.user:
            raise Refused("Incorrect order ID")
        if not self.services[order.service].refill:
            raise Refused("Refill not available for this service")
        if order.status not in (COMPLETED, PARTIAL) or not order.finished:
            raise Refused("Refill not available for this order")
        for number, refill in enumerate(self.state.refills):
            if refill.order == op.ref and refill.status not in REFILL_FINAL:
                return number
        self.state.refills.append(MRefill(op.ref))
        return len(self.state.refills) - 1

    def _stop(self, op: Stop) -> object:
        parent = self.state.orders[op.ref]
        if parent.runs is None or (op.user is not None and parent.user != op.user):
            return NOT_FOUND
        if parent.final or parent.stopped:
            raise Refused(f"Order # is already {'stopped' if parent.stopped else parent.status}")
        unplaced = (parent.runs - parent.runs_done) * parent.quantity
        refund = share_down(parent.charge, unplaced, parent.ordered) - parent.refunded
        parent.stopped = True
        if parent.dispatch == DRIPFEED:
            parent.dispatch = PLACED
        if refund > 0:
            parent.refunded += refund
            self._move(parent.user, refund)
        self._refresh(op.ref)
        return "ok"

    def _place_run(self, index: int) -> object:
        parent = self.state.orders[index]
        if parent.dispatch != DRIPFEED or parent.final or parent.runs is None:
            return False
        child = MOrder(parent.user, parent.service, parent.link, parent.quantity, None, 0, parent.quantity, QUEUED)
        child.parent = index
        self.state.orders.append(child)
        parent.runs_done += 1
        parent.status = IN_PROGRESS
        if parent.runs_done >= parent.runs:
            parent.dispatch = PLACED
        return True

    def _send(self, op: Send) -> object:
        queued = [i for i, o in enumerate(self.state.orders) if o.dispatch == QUEUED]
        for turn, index in enumerate(queued):
            order = self.state.orders[index]
            if op.accept[turn % len(op.accept)]:
                order.dispatch = SENT
            else:  # the only provider refused it: the order fails, all its money back
                self._finish(index, CANCELED, order.ordered, FAILED)
                if order.parent is not None:
                    self._refresh(order.parent)
        return queued

    def _upstream(self, op: Upstream) -> object:
        order = self.state.orders[op.ref]
        if order.final or order.dispatch != SENT:
            return "ok"
        remains = order.remains if op.remains is None else max(0, min(op.remains, order.ordered))
        if op.status == CANCELED:
            remains = order.ordered
        elif op.status == COMPLETED:
            remains = 0
        self._finish(op.ref, op.status, remains)
        if order.parent is not None:
            self._refresh(order.parent)
        return "ok"

    def _post(self, op: Post) -> object:
        order = self.state.orders[op.ref]
        if self.services[order.service].type != SUBSCRIPTIONS:
            return NOT_FOUND
        if order.final:
            raise Refused(f"Order is already {order.status}")
        assert order.bounds is not None
        low, high = order.bounds
        quantity = size(self.services[order.service], op.pick, low, high)
        if not low <= quantity <= high:
            raise Refused("Incorrect quantity")
        charge = half_up(self.services[order.service].rate, quantity)
        self._move(order.user, -charge)
        order.charge += charge
        order.quantity += quantity
        order.runs_done += 1
        order.status = IN_PROGRESS
        return "ok"

    # the figures to compare -------------------------------------------------------------

    def figures(self) -> dict[str, object]:
        return {
            "balances": list(self.state.balances),
            "orders": [o.figures() for o in self.state.orders],
            "refills": [r.status for r in self.state.refills],
        }


def _replace(op: Any, **changes: object) -> object:
    return replace(op, **changes)
