"""Support tickets: customers ask, the operator answers or closes.

Status says who acts next: a customer's message makes a ticket Open (the operator's
turn), an operator's answer makes it Answered (the customer's turn). Each side has
an unread flag, so the operator's list shows what nobody has read yet first.
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.clock import utcnow
from smmpanel.db.ticket_repositories import Ticket, TicketMessage
from smmpanel.db.unit_of_work import Database
from smmpanel.domain import messages as msg
from smmpanel.domain.tickets import (
    TicketStatus,
    check_customer_may_reply,
    checked_message,
    checked_subject,
    topic_subject,
)
from smmpanel.errors import NotFound, Refused
from smmpanel.usecases import notifications
from smmpanel.usecases.paging import DEFAULT_SIZE, Page, keyset_page


@dataclass(frozen=True)
class TicketThread:
    ticket: Ticket
    messages: list[TicketMessage]


# --- the customer's side -----------------------------------------------------------


async def open_ticket(db: Database, user_id: int, subject: str, message: str, order_id: int | None = None) -> int:
    """A new Open ticket with its first message; ``order_id``, if given, must be the customer's own."""
    subject, body = checked_subject(subject), checked_message(message)
    now = utcnow()
    async with db.write() as repos:
        if order_id is not None and not await repos.orders.of_customer(user_id, [order_id]):
            raise Refused(msg.INCORRECT_ORDER)
        ticket_id = await repos.tickets.add(user_id, subject, order_id, now)
        await repos.tickets.add_message(ticket_id, user_id, from_operator=False, body=body, now=now)
        await notifications.new_ticket(repos, user_id, ticket_id, subject, body, now)
    return ticket_id


async def open_ticket_on_topic(
    db: Database, user_id: int, topic: str, order_id: int | None, subject: str, message: str
) -> int:
    """A ticket on one of the preset topics: Refill, Cancel and Speed up name one of the customer's orders."""
    return await open_ticket(db, user_id, topic_subject(topic, order_id, subject), message, order_id)


async def tickets_of_customer(
    db: Database, user_id: int, *, before: int | None = None, after: int | None = None, limit: int = DEFAULT_SIZE
) -> Page[Ticket]:
    async with db.read() as repos:

        async def fetch(before: int | None, after: int | None, limit: int) -> list[Ticket]:
            return await repos.tickets.of_customer(user_id, before=before, after=after, limit=limit)

        return await keyset_page(fetch, lambda ticket: ticket.id, before=before, after=after, limit=limit)


async def ticket_for_customer(db: Database, user_id: int, ticket_id: int) -> TicketThread:
    """The ticket and its messages, now read by its customer; anyone else's is NotFound, like a missing one."""
    async with db.read() as repos:
        ticket = await repos.tickets.get(ticket_id)
        if ticket is None or ticket.user_id != user_id:
            raise NotFound(f"no ticket {ticket_id}")
        messages = await repos.tickets.messages(ticket_id)
    if ticket.unread_by_customer:
        async with db.write() as repos:
            await repos.tickets.update(ticket_id, {"unread_by_customer": False})
    return TicketThread(ticket, messages)


async def reply_as_customer(db: Database, user_id: int, ticket_id: int, message: str) -> None:
    """Add the customer's message; the ticket becomes Open (the operator's turn) and unread by them."""
    body = checked_message(message)
    now = utcnow()
    async with db.write() as repos:
        ticket = await repos.tickets.get(ticket_id, for_update=True)
        if ticket is None or ticket.user_id != user_id:
            raise NotFound(f"no ticket {ticket_id}")
        check_customer_may_reply(ticket.status)
        await repos.tickets.add_message(ticket_id, user_id, from_operator=False, body=body, now=now)
        await repos.tickets.update(
            ticket_id,
            {
                "status": TicketStatus.OPEN.value,
                "unread_by_operator": True,
                "unread_by_customer": False,
                "updated_at": now,
            },
        )


# --- the operator's side -----------------------------------------------------------


async def tickets_for_operator(
    db: Database, *, status: TicketStatus | None = None, limit: int = 100, assigned_to: int | None = None
) -> list[Ticket]:
    """Unread by the operator first, then the most recently active; ``assigned_to`` one member's only."""
    async with db.read() as repos:
        return await repos.tickets.for_operator(
            status=status.value if status else None, limit=limit, assigned_to=assigned_to
        )


async def unread_ticket_count(db: Database) -> int:
    async with db.read() as repos:
        return await repos.tickets.unread_by_operator()


async def ticket_for_operator(db: Database, ticket_id: int) -> TicketThread:
    """The ticket and its messages, now read by the operator."""
    async with db.read() as repos:
        ticket = await repos.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        messages = await repos.tickets.messages(ticket_id)
    if ticket.unread_by_operator:
        async with db.write() as repos:
            await repos.tickets.update(ticket_id, {"unread_by_operator": False})
    return TicketThread(ticket, messages)


async def reply_as_operator(db: Database, operator_id: int, ticket_id: int, message: str) -> None:
    """Add the operator's answer; the ticket becomes Answered (also a Closed one) and unread by its customer."""
    body = checked_message(message)
    now = utcnow()
    async with db.write() as repos:
        operator = await repos.users.by_id(operator_id)
        if operator is None or not operator.is_admin:
            raise Refused("Only an operator can answer as the operator")
        ticket = await repos.tickets.get(ticket_id, for_update=True)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        await repos.tickets.add_message(ticket_id, operator_id, from_operator=True, body=body, now=now)
        await repos.tickets.update(
            ticket_id,
            {
                "status": TicketStatus.ANSWERED.value,
                "unread_by_operator": False,
                "unread_by_customer": True,
                "updated_at": now,
            },
        )
        await notifications.ticket_answered(repos, ticket.user_id, ticket_id, ticket.subject, body, now)


async def close_ticket(db: Database, ticket_id: int) -> None:
    """Close a ticket (the operator's decision); its customer can read it but no longer reply."""
    async with db.write() as repos:
        ticket = await repos.tickets.get(ticket_id, for_update=True)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        if ticket.status is not TicketStatus.CLOSED:
            await repos.tickets.update(
                ticket_id, {"status": TicketStatus.CLOSED.value, "unread_by_operator": False, "updated_at": utcnow()}
            )
