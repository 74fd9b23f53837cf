"""The customer's money: balance and every entry that changed it."""

from __future__ import annotations

from smmpanel.db.repositories import LedgerEntry
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases.paging import DEFAULT_SIZE, Page, keyset_page


async def ledger_page(
    db: Database, user_id: int, *, before: int | None = None, after: int | None = None, limit: int = DEFAULT_SIZE
) -> Page[LedgerEntry]:
    """Top-ups, charges, refunds and corrections, newest first."""
    async with db.read() as repos:

        async def fetch(before: int | None, after: int | None, limit: int) -> list[LedgerEntry]:
            return await repos.ledger.of_customer_page(user_id, before=before, after=after, limit=limit)

        return await keyset_page(fetch, lambda entry: entry.id, before=before, after=after, limit=limit)
