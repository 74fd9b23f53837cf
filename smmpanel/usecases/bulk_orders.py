"""One change applied to many orders the operator ticked: first a plan to confirm, then each order alone.

Every order goes through the very use case its own page uses (``orders.update_order``,
``fulfilment.resend``), each in its own transaction: a refund is paid exactly once however
often the confirmation is sent, an order that refuses is reported and the others still go through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from smmpanel.db.dispatch_repositories import ATTENTION
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import Order, OrderStatus, refund_for
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Refused
from smmpanel.money import Units
from smmpanel.usecases import fulfilment, orders
from smmpanel.usecases.audit import Audit, record

MAX_BULK = 500
"""Orders one confirmation may change: the plan lists each of them on one page."""


class BulkAction(StrEnum):
    PENDING = "status:Pending"
    IN_PROGRESS = "status:In progress"
    PROCESSING = "status:Processing"
    COMPLETE = "complete"
    RESEND = "resend"
    CANCEL = "cancel"

    @property
    def status(self) -> OrderStatus | None:
        """The status the action sets, if it sets one."""
        if self is BulkAction.COMPLETE:
            return OrderStatus.COMPLETED
        if self is BulkAction.CANCEL:
            return OrderStatus.CANCELED
        return OrderStatus(self.value.removeprefix("status:")) if self.value.startswith("status:") else None

    @property
    def permission(self) -> Permission:
        """What the member of staff needs: a refund is the finance team's, as on the order's page."""
        return Permission.REFUNDS if self is BulkAction.CANCEL else Permission.ORDERS_WRITE


def bulk_action(text: str) -> BulkAction:
    try:
        return BulkAction(text)
    except ValueError:
        raise Refused("Choose what to do with the selected orders") from None


@dataclass(frozen=True)
class PlannedChange:
    order_id: int
    order: Order | None
    refusal: str | None
    """Why this order will be left alone; None when the change applies."""
    refund: Units = 0
    """What a cancel gives back to the customer."""


def _refusal(action: BulkAction, order: Order) -> str | None:
    if action is BulkAction.RESEND:
        return None if order.dispatch == ATTENTION and not order.status.is_final else "not waiting for attention"
    if order.status.is_final:
        return f"already {order.status.value}"
    return None


def checked_ids(order_ids: Sequence[int]) -> list[int]:
    ids = sorted(set(order_ids))  # oldest first, each once, however the page listed them
    if not ids:
        raise Refused("Tick at least one order")
    if len(ids) > MAX_BULK:
        raise Refused("At most %(max_bulk)s orders at once", max_bulk=MAX_BULK)
    return ids


async def plan(db: Database, action: BulkAction, order_ids: Sequence[int]) -> list[PlannedChange]:
    """What the action would do to each ticked order, to show before anything changes."""
    ids = checked_ids(order_ids)
    async with db.read() as repos:
        found = await repos.orders.many(ids)
    changes = []
    for order_id in ids:
        order = found.get(order_id)
        if order is None:
            changes.append(PlannedChange(order_id, None, "no such order"))
            continue
        refusal = _refusal(action, order)
        refund = refund_for(OrderStatus.CANCELED, order.charge, order.ordered, order.ordered) - order.refunded
        changes.append(PlannedChange(order_id, order, refusal, refund if action is BulkAction.CANCEL else 0))
    return changes


async def apply(
    db: Database, action: BulkAction, order_ids: Sequence[int], *, audit: Audit | None
) -> dict[int, str | None]:
    """Each order through its own use case; answers None for a done order, else why it refused."""
    outcomes: dict[int, str | None] = {}
    for change in await plan(db, action, order_ids):
        outcomes[change.order_id] = change.refusal or await _one(db, action, change.order_id, audit)
    done = [order_id for order_id, refusal in outcomes.items() if refusal is None]
    refused = {str(order_id): refusal for order_id, refusal in outcomes.items() if refusal is not None}
    await record(
        db,
        audit,
        "order.bulk",
        f"{len(outcomes)} orders",
        None,
        {"action": action.value, "done": done, "refused": refused},
    )
    return outcomes


async def _one(db: Database, action: BulkAction, order_id: int, audit: Audit | None) -> str | None:
    try:
        if action is BulkAction.RESEND:
            await fulfilment.resend(db, order_id, audit=audit)
        else:
            await orders.update_order(db, order_id, orders.OrderUpdate(status=action.status), audit=audit)
    except Refused as refused:
        return refused.message
    except NotFound:
        return "no such order"
    return None
