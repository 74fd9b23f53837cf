"""Drip-feed: one order delivered as ``runs`` child orders, ``interval`` minutes apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smmpanel.domain.orders import FINAL_STATUSES, Order, OrderStatus


@dataclass(frozen=True, slots=True)
class DripFeedProgress:
    status: OrderStatus
    start_count: int
    remains: int


def drip_feed_progress(
    quantity: int,
    runs: int,
    runs_done: int,
    stopped: bool,
    children: Sequence[tuple[OrderStatus, int, int]],
) -> DripFeedProgress:
    """The parent as its customer sees it, from its runs ``(status, start_count, remains)``.

    Runs never placed count as undelivered. The parent ends when no more runs will be
    placed and every placed run has ended: Completed when nothing remains, Canceled
    when nothing was delivered, Partial in between.
    """
    ordered = quantity * runs
    remains = (runs - runs_done) * quantity + sum(child_remains for _, _, child_remains in children)
    remains = max(0, min(remains, ordered))
    start_count = children[0][1] if children else 0
    if (stopped or runs_done >= runs) and all(status.is_final for status, _, _ in children):
        if remains == 0:
            final = OrderStatus.COMPLETED
        elif remains == ordered:
            final = OrderStatus.CANCELED
        else:
            final = OrderStatus.PARTIAL
        return DripFeedProgress(final, start_count, remains)
    status = OrderStatus.IN_PROGRESS if children else OrderStatus.PENDING
    return DripFeedProgress(status, start_count, remains)


def schedule_status(order: Order) -> str:
    """A drip-feed as a schedule: Active, Completed or Canceled (stopped counts as Canceled)."""
    if order.status is OrderStatus.CANCELED or order.stopped:
        return "Canceled"
    if order.status in FINAL_STATUSES:
        return "Completed"
    return "Active"


def remaining_runs(order: Order) -> int:
    """Runs still to be placed; none once the drip-feed ended or was stopped."""
    if order.status in FINAL_STATUSES or order.stopped:
        return 0
    return max(0, (order.runs or 1) - order.runs_done)
