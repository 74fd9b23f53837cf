"""The rest of the admin API's desk: refills, payments, customers and tickets.

Each function is the dashboard's own use case under another name, or a listing the
admin API needs: a top-up is ``accounts.fund``, a refill's status ``refills.update_refill``,
an answer to a ticket ``tickets.reply_as_operator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smmpanel.clock import utcnow
from smmpanel.db.admin_api_repositories import AdminKey, Listing
from smmpanel.db.repositories import Refill
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.refills import RefillStatus
from smmpanel.domain.tickets import TicketStatus, checked_message, checked_subject
from smmpanel.errors import NotFound, Refused
from smmpanel.money import Units, format_amount
from smmpanel.usecases import accounts, refills, tickets
from smmpanel.usecases.admin_keys import acting
from smmpanel.usecases.audit import audited, record


@dataclass(frozen=True)
class RefillRow:
    refill: Refill
    service_id: int
    link: str


async def pull_refills(db: Database, limit: int) -> list[RefillRow]:
    """Pending refills of orders nobody forwards, each handed out once: they become In progress."""
    async with db.write() as repos:
        ids = await repos.admin_api.claim_refills(limit, utcnow())
    return await _refill_rows(db, ids)


async def _refill_rows(db: Database, refill_ids: list[int]) -> list[RefillRow]:
    async with db.read() as repos:
        rows = []
        for refill_id in refill_ids:
            refill = await repos.refills.get(refill_id)
            order = await repos.orders.get(refill.order_id) if refill else None
            if refill is not None and order is not None:
                rows.append(RefillRow(refill, order.service_id, order.link))
    return rows


async def change_refill_status(db: Database, key: AdminKey, refill_id: int, status: RefillStatus) -> RefillRow:
    before = await _refill_rows(db, [refill_id])
    if not before:
        raise NotFound(f"no refill {refill_id}")
    await refills.update_refill(db, refill_id, status)
    facts = ({"status": before[0].refill.status.value}, {"status": status.value})
    await record(db, acting(key), "refill.update", f"refill {refill_id}", *facts)
    return (await _refill_rows(db, [refill_id]))[0]


async def topups(db: Database, username: str | None, limit: int, offset: int) -> Listing:
    async with db.read() as repos:
        user_id = None
        if username:
            customer = await repos.users.by_username(username)
            if customer is None:
                return Listing()
            user_id = customer.id
        return await repos.admin_api.topups(user_id, limit, offset)


async def add_payment(db: Database, key: AdminKey, username: str, amount: Units, note: str) -> Units:
    """A top-up (or, negative, a deduction) with its note: ``accounts.fund``, audited with the key."""
    return await accounts.fund(db, username, amount, note, audit=acting(key))


async def customers(db: Database, username: str | None, limit: int, offset: int) -> Listing:
    async with db.read() as repos:
        return await repos.admin_api.customers(username, limit, offset)


async def add_customer(db: Database, key: AdminKey, username: str, password: str | None) -> accounts.NewKey:
    created = await accounts.create_customer(db, username, password=password)
    await record(db, acting(key), "customer.create", f"customer {username}", None, {"balance": format_amount(0)})
    return created


async def _operator_id(db: Database) -> int:
    async with db.read() as repos:
        operator = await repos.admin_api.first_operator()
    if operator is None:
        raise Refused("the panel has no operator account to answer tickets as")
    return operator


async def reply_ticket(db: Database, key: AdminKey, ticket_id: int, message: str) -> None:
    """The operator's answer, written under the panel's first operator account; the audit names the key."""
    await tickets.reply_as_operator(db, await _operator_id(db), ticket_id, message)
    await record(db, acting(key), "ticket.reply", f"ticket {ticket_id}", None, {"length": len(message)})


async def open_ticket(db: Database, key: AdminKey, username: str, subject: str, message: str) -> int:
    """A ticket the operator opens to a customer: Answered (the customer's turn), unread by them."""
    subject, body = checked_subject(subject), checked_message(message)
    operator = await _operator_id(db)
    now: datetime = utcnow()
    async with db.write() as repos:
        customer = await repos.users.by_username(username)
        if customer is None:
            raise NotFound(f"no user named {username!r}")
        ticket_id = await repos.tickets.add(customer.id, subject, None, now)
        await repos.tickets.add_message(ticket_id, operator, from_operator=True, body=body, now=now)
        values = {"status": TicketStatus.ANSWERED.value, "unread_by_operator": False, "unread_by_customer": True}
        await repos.tickets.update(ticket_id, values)
        await audited(repos, acting(key), "ticket.open", f"ticket {ticket_id}", None, {"customer": username})
    return ticket_id
