"""Archiving finished orders (``smmpanel.db.order_archive``): batch after batch, each its own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from smmpanel.clock import utcnow
from smmpanel.db.order_archive import MAX_BATCH
from smmpanel.db.unit_of_work import Database

DEFAULT_BATCH = 1000
"""Orders per transaction: short enough that the API's writers never wait long behind one."""


@dataclass(frozen=True, slots=True)
class Batch:
    """One committed batch: how many orders moved, and their lowest and highest ids."""

    moved: int
    first_id: int
    last_id: int


async def archive_orders(db: Database, older_than_days: int, batch: int = DEFAULT_BATCH) -> list[Batch]:
    """Move every finished order untouched for ``older_than_days`` into the archive, walking ``orders``
    ``batch`` ids at a time (the batches that moved something are returned).

    Each batch commits on its own, so the API's writers run between two; an order a writer holds
    is skipped and left for the next run.
    """
    if older_than_days < 1 or not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"archive_orders({older_than_days}, {batch}): days >= 1, 1 <= batch <= {MAX_BATCH}")
    cutoff = utcnow() - timedelta(days=older_than_days)
    done: list[Batch] = []
    after: int | None = 0
    while after is not None:
        async with db.write() as repos:
            moved, after = await repos.orders.archive.move(cutoff, batch, after)
        if moved:
            done.append(Batch(len(moved), moved[0], moved[-1]))
    return done


async def archived_count(db: Database) -> int:
    async with db.read() as repos:
        return await repos.orders.archive.count()
