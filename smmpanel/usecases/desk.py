"""The operator's desk: what waits in each queue, the cancel requests, the canned replies.

A count is shown only to staff whose role may open the queue it counts (``domain.roles``):
a support agent never learns how many deposits wait, a finance member how many tickets.
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.clock import utcnow
from smmpanel.db.desk_repositories import CannedReply
from smmpanel.db.repositories import Customer
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import Order, OrderStatus
from smmpanel.domain.roles import Permission
from smmpanel.domain.tickets import checked_canned_reply
from smmpanel.errors import NotFound, Refused
from smmpanel.usecases import orders
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.payment_desk import review_kinds

QUEUE_LIMIT = 200


@dataclass(frozen=True)
class QueueCounts:
    """How many items wait in each queue; None where the member of staff may not look."""

    attention: int | None = None
    cancel_requests: int | None = None
    deposits: int | None = None
    tickets: int | None = None


async def queue_counts(db: Database, user: Customer) -> QueueCounts:
    """The four counts of the admin nav and overview, each an indexed count of a small subset."""
    async with db.read() as repos:
        orders_open = user.may(Permission.ORDERS_READ)
        return QueueCounts(
            attention=await repos.desk.attention_count() if orders_open else None,
            cancel_requests=await repos.desk.cancel_request_count() if orders_open else None,
            deposits=await repos.desk.review_count(review_kinds()) if user.may(Permission.PAYMENTS) else None,
            tickets=await repos.desk.open_ticket_count() if user.may(Permission.TICKETS) else None,
        )


# --- cancel requests ---------------------------------------------------------------


@dataclass(frozen=True)
class CancelRequest:
    order: Order
    username: str


async def cancel_requests(db: Database, limit: int = QUEUE_LIMIT) -> list[CancelRequest]:
    """Running orders whose customer asked to cancel and that nobody settled yet, oldest first."""
    async with db.read() as repos:
        return [CancelRequest(order, name) for order, name in await repos.admin_api.cancel_requests(limit)]


async def accept_cancel(db: Database, order_id: int, *, audit: Audit | None) -> Order:
    """The operator agrees: the order is canceled and refunded, as the Cancel and refund button does."""
    await _waiting(db, order_id)
    return await orders.update_order(db, order_id, orders.OrderUpdate(status=OrderStatus.CANCELED), audit=audit)


async def refuse_cancel(db: Database, order_id: int, *, audit: Audit | None) -> None:
    """The fulfiller goes on with the order: the customer's cancel request is dropped."""
    async with db.write() as repos:
        order = await repos.orders.get(order_id, for_update=True)
        if order is None:
            raise NotFound(f"no order {order_id}")
        _check_waiting(order)
        await repos.orders.update(order.id, {"cancel_requested": False}, utcnow())
        before, after = {"cancel_requested": True}, {"cancel_requested": False}
        await audited(repos, audit, "order.cancel_reject", f"order {order_id}", before, after)


async def _waiting(db: Database, order_id: int) -> None:
    async with db.read() as repos:
        order = await repos.orders.get(order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    _check_waiting(order)


def _check_waiting(order: Order) -> None:
    if not order.cancel_requested or order.cancel_state is not None or order.status.is_final:
        raise Refused("order %(order_id)s has no cancel request waiting", order_id=order.id)


# --- canned replies ----------------------------------------------------------------


async def canned_replies(db: Database) -> list[CannedReply]:
    async with db.read() as repos:
        return await repos.desk.canned_replies()


async def canned_reply(db: Database, reply_id: int) -> CannedReply:
    async with db.read() as repos:
        reply = await repos.desk.canned_reply(reply_id)
    if reply is None:
        raise NotFound(f"no canned reply {reply_id}")
    return reply


async def save_canned_reply(
    db: Database, title: str, body: str, *, reply_id: int | None = None, audit: Audit | None = None
) -> int:
    """Add a canned reply, or change one (``reply_id``); titles are unique whatever their case."""
    title, body = checked_canned_reply(title, body)
    now = utcnow()
    async with db.write() as repos:
        if reply_id is not None and await repos.desk.canned_reply(reply_id) is None:
            raise NotFound(f"no canned reply {reply_id}")
        if await repos.desk.title_taken(title, other_than=reply_id):
            raise Refused("A canned reply is already called %(title)r", title=title)
        if reply_id is None:
            reply_id = await repos.desk.add_canned_reply(title, body, now)
            action = "canned_reply.add"
        else:
            await repos.desk.update_canned_reply(reply_id, title, body, now)
            action = "canned_reply.update"
        await audited(repos, audit, action, f"canned reply {reply_id}", None, {"title": title})
    return reply_id


async def delete_canned_reply(db: Database, reply_id: int, *, audit: Audit | None = None) -> None:
    async with db.write() as repos:
        reply = await repos.desk.canned_reply(reply_id)
        if reply is None:
            raise NotFound(f"no canned reply {reply_id}")
        await repos.desk.delete_canned_reply(reply_id)
        await audited(repos, audit, "canned_reply.delete", f"canned reply {reply_id}", {"title": reply.title}, None)
