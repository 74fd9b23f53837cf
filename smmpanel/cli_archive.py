"""``smmpanel order archive``: finished orders out of the hot table, by hand or from cron."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from smmpanel.cli_support import Result, positive_int
from smmpanel.db.order_archive import MAX_BATCH
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases import archive


def batch_arg(text: str) -> int:
    size = positive_int(text)
    if size > MAX_BATCH:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_BATCH} orders per batch, got {text!r}")
    return size


async def order_archive(db: Database, args: argparse.Namespace) -> Result:
    batches = await archive.archive_orders(db, args.older_than, args.batch)
    moved = sum(batch.moved for batch in batches)
    lines = [f"batch: {batch.moved} moved, ids {batch.first_id}-{batch.last_id}" for batch in batches]
    lines.append(f"archived {moved} orders finished and untouched for {args.older_than} days")
    data = {
        "archived": moved,
        "batches": [{"moved": b.moved, "first_id": b.first_id, "last_id": b.last_id} for b in batches],
        "in_archive": await archive.archived_count(db),
    }
    return Result(data, "\n".join(lines))


def add_archive_commands(order: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    sub = command(order, "archive", order_archive, "move finished orders older than DAYS into the archive")
    sub.add_argument("--older-than", type=positive_int, required=True, metavar="DAYS", help="untouched for DAYS days")
    sub.add_argument("--batch", type=batch_arg, default=archive.DEFAULT_BATCH, help="orders per transaction")
