"""CLI commands for running a panel: ``backup`` and ``restore`` of the SQLite default."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smmpanel.cli_support import Result
from smmpanel.db import backup as backups
from smmpanel.db.migrate import upgrade
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases import accounts


async def backup_command(db: Database, args: argparse.Namespace) -> Result:
    snapshot = await asyncio.to_thread(backups.backup, db.url, Path(args.path), force=args.force)
    data = {"backup": str(snapshot.path), "bytes": snapshot.size, "schema": snapshot.schema}
    return Result(data, f"backed up to {snapshot.path} ({snapshot.size} bytes, schema {snapshot.schema})")


async def _ledger_ok(database_url: str) -> bool:
    db = Database(database_url, pool_size=1)
    try:
        return not await accounts.verify_ledger(db)
    finally:
        await db.close()


async def restore_command(db: Database, args: argparse.Namespace) -> Result:
    """Stage the backup, migrate it, verify its ledger, then copy it over the live database."""
    staged = await asyncio.to_thread(backups.stage, db.url, Path(args.path))
    try:
        staged_url = f"sqlite:///{staged}"
        await asyncio.to_thread(upgrade, staged_url)  # an older backup comes up to the current schema
        if not await _ledger_ok(staged_url):
            raise backups.BackupError(f"{args.path}: its ledger does not verify (a balance ≠ Σ entries): not restored")
        schema = await asyncio.to_thread(backups.schema_of, staged)
        await asyncio.to_thread(backups.replace_with, db.url, staged, force=args.force)
    finally:
        await asyncio.to_thread(backups.discard, staged)
    ledger_ok = not await accounts.verify_ledger(db)
    target = backups.sqlite_path(db.url)
    data = {"ok": ledger_ok, "restored": str(args.path), "database": str(target), "schema": schema}
    verdict = "ledger verified" if ledger_ok else "LEDGER MISMATCH: run `smmpanel ledger verify`"
    return Result(data, f"restored {args.path} into {target} (schema {schema}); {verdict}")


def add_operations_commands(groups: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    sub = command(groups, "backup", backup_command, "online copy of the SQLite database (PostgreSQL: pg_dump)")
    sub.add_argument("path")
    sub.add_argument("--force", action="store_true", help="replace an existing file at PATH")
    sub = command(
        groups, "restore", restore_command, "replace the SQLite database with a backup (PostgreSQL: pg_restore)"
    )
    sub.add_argument("path")
    sub.add_argument("--force", action="store_true", help="restore even while a panel or worker has the database open")
