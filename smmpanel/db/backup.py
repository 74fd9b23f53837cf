"""Online backup and restore of the SQLite default, with SQLite's own backup API.

A backup is a consistent snapshot taken while the panel keeps serving (in WAL mode
readers do not block writers), written beside its target and renamed into place,
so that a half-written backup never carries the final name. It is a single
self-contained file (rollback-journal mode), checked with ``PRAGMA quick_check``.

A restore first stages the backup next to the live database, migrates the staged
copy to the current schema and verifies its ledger; only then does it copy the
pages into the live database. PostgreSQL has its own tools: pg_dump and pg_restore.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from smmpanel.db.engine import async_url, is_sqlite
from smmpanel.errors import SmmPanelError

BUSY_TIMEOUT = 30.0
USE_PG_TOOLS = (
    "this panel runs on PostgreSQL: back it up with pg_dump and restore with pg_restore "
    "(smmpanel backup and restore handle the SQLite default only)"
)


class BackupError(SmmPanelError):
    """A backup or restore that cannot be done; nothing was changed."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    size: int
    schema: str
    """The Alembic revision the file is at."""


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite panel; PostgreSQL is refused with a pointer to its own tools."""
    if not is_sqlite(async_url(database_url)):
        raise BackupError(USE_PG_TOOLS)
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("the database is in memory: there is nothing to back up")
    return Path(database)


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        leftover.unlink(missing_ok=True)


def schema_of(path: Path, *, thorough: bool = True) -> str:
    """The panel schema revision of an SQLite file; refuses anything that is not a sound smmpanel database.

    ``thorough`` reads every page (``PRAGMA quick_check``): for backups, not for the live database.
    """
    if not path.is_file():
        raise BackupError(f"no file at {path}")
    with path.open("rb") as file:
        if file.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not an SQLite database")
    try:
        with _connect(path) as conn:
            if thorough and conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError(f"{path} is damaged (PRAGMA quick_check failed)")
            found = conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'")
            if found.fetchone() is None:
                raise BackupError(f"{path} is not an smmpanel database (no alembic_version table)")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} cannot be read as an SQLite database: {error}") from None
    if row is None:
        raise BackupError(f"{path} is not an smmpanel database (alembic_version is empty)")
    return str(row[0])


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of ``source`` into a new file ``target``, standalone (no WAL)."""
    with _connect(source) as src, _connect(target) as dst:
        src.backup(dst)  # all pages in one step: one snapshot, whatever writers do meanwhile
        dst.execute("PRAGMA journal_mode=DELETE")


def backup(database_url: str, target: Path, *, force: bool = False) -> Snapshot:
    source = sqlite_path(database_url)
    schema = schema_of(source, thorough=False)
    if target.exists() and not force:
        raise BackupError(f"{target} exists: choose another path, or --force to replace it")
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError("the backup cannot replace the database itself")
    if not target.parent.is_dir():
        raise BackupError(f"no directory {target.parent}")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        _copy(source, partial)
        schema_of(partial)
        with partial.open("rb") as file:
            os.fsync(file.fileno())
        partial.replace(target)
    finally:
        _remove(partial)
    return Snapshot(target, target.stat().st_size, schema)


def in_use(path: Path) -> bool:
    """Whether another connection (a running panel or worker) has the database open.

    A WAL database can leave WAL mode only when no other connection has it open; the
    probe tries exactly that, which is harmless here since the file is about to be replaced.
    """
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() == "wal":
            return str(conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]).lower() == "wal"
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def stage(database_url: str, source: Path) -> Path:
    """Copy a backup next to the live database, to be migrated and verified before it replaces it."""
    target = sqlite_path(database_url)
    schema_of(source)
    if target.exists() and source.resolve() == target.resolve():
        raise BackupError("that is the live database itself, not a backup")
    if not target.parent.is_dir():
        raise BackupError(f"no directory {target.parent}")
    staged = target.with_name(f".{target.name}.restore-{os.getpid()}")
    _remove(staged)
    try:
        _copy(source, staged)
    except BaseException:
        _remove(staged)
        raise
    return staged


def replace_with(database_url: str, staged: Path, *, force: bool = False) -> None:
    """Copy the staged, verified backup into the live database, page by page.

    Refused while the database is open elsewhere, unless ``force``: then the pages are
    written under SQLite's own locks, and connections already open see the restored data.
    """
    target = sqlite_path(database_url)
    if target.exists() and in_use(target) and not force:
        raise BackupError(
            f"{target} is in use (a panel or worker has it open): stop them first, or --force to restore anyway"
        )
    with _connect(staged) as src, _connect(target) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")


def discard(staged: Path) -> None:
    _remove(staged)
