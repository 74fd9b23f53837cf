"""Archiving finished orders (``smmpanel.db.order_archive``): batch after batch, each its own transaction."""

from __future__ import annotations

from collections.abc import Callable
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


async def archive_orders(
    db: Database, older_than_days: int, batch: int = DEFAULT_BATCH, *, each: Callable[[Batch], None] | None = None
) -> list[Batch]:
    """Move every finished order untouched for ``older_than_days`` into the archive, ``batch`` at a time.

    Each batch commits on its own, so the API's writers run between two; an order a writer holds
    is skipped and left for the next run. ``each`` is told of every batch as it commits.
    """
    if older_than_days < 1 or not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"archive_orders({older_than_days}, {batch}): days >= 1, 1 <= batch <= {MAX_BATCH}")
    cutoff = utcnow() - timedelta(days=older_than_days)
    done: list[Batch] = []
    while True:
        async with db.write() as repos:
            moved = await repos.orders.archive.move(cutoff, batch)
        if moved:
            done.append(Batch(len(moved), moved[0], moved[-1]))
            if each is not None:
                each(done[-1])
        if len(moved) < batch:
            return done


async def archived_count(db: Database) -> int:
    async with db.read() as repos:
        return await repos.orders.archive.count()
