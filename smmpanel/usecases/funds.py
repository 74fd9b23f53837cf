"""The customer's money: balance and every entry that changed it."""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.db.repositories import LedgerEntry, Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.ledger import customer_note
from smmpanel.usecases.paging import DEFAULT_SIZE, Page, keyset_page


@dataclass(frozen=True)
class ShownEntry:
    """A ledger entry as its customer sees it: ``note`` in the customer's words (see ``customer_note``)."""

    entry: LedgerEntry
    note: str


async def _in_customer_words(repos: Repositories, user_id: int, entries: list[LedgerEntry]) -> list[ShownEntry]:
    found = await repos.orders.of_customer(user_id, [e.order_id for e in entries if e.order_id is not None])
    services = await repos.services.many({order.service_id for order in found.values()})
    per_post = {number for number, service in services.items() if service.type is ServiceType.SUBSCRIPTIONS}
    shown = []
    for e in entries:
        order = found.get(e.order_id) if e.order_id is not None else None
        paid_per_post = order is not None and order.service_id in per_post
        shown.append(ShownEntry(e, customer_note(e.kind, e.order_id, e.note, e.created_at, order, paid_per_post)))
    return shown


async def ledger_page(
    db: Database, user_id: int, *, before: int | None = None, after: int | None = None, limit: int = DEFAULT_SIZE
) -> Page[LedgerEntry]:
    """Top-ups, charges, refunds and corrections, newest first, with the operator's own notes."""
    async with db.read() as repos:
        return await _entries(repos, user_id, before, after, limit)


async def customer_ledger_page(
    db: Database, user_id: int, *, before: int | None = None, after: int | None = None, limit: int = DEFAULT_SIZE
) -> Page[ShownEntry]:
    """The same page for the customer: each note in the customer's words."""
    async with db.read() as repos:
        page = await _entries(repos, user_id, before, after, limit)
        return Page(await _in_customer_words(repos, user_id, page.items), page.newer, page.older)


async def _entries(
    repos: Repositories, user_id: int, before: int | None, after: int | None, limit: int
) -> Page[LedgerEntry]:
    async def fetch(before: int | None, after: int | None, limit: int) -> list[LedgerEntry]:
        return await repos.ledger.of_customer_page(user_id, before=before, after=after, limit=limit)

    return await keyset_page(fetch, lambda entry: entry.id, before=before, after=after, limit=limit)
