"""Short SQLite reads on the event loop's own thread, each under a deadline; the rest on a thread.

A polling read (a balance, the statuses of at most 100 orders) is a few index probes that SQLite
answers in microseconds. Handing it to aiosqlite's thread and back costs more than the read: a
thread switch, a GIL handoff and a wake-up of the event loop each way (~0.1 ms of CPU, issue #16
item 8, benchmarks/RESULTS.md). Run on the loop, though, a read that turned out long (a cold page
cache, a lock, a plan gone wrong) would stall every request of the process. So an inline read:

- runs under a deadline: SQLite's progress handler looks at the clocks every ``steps`` steps of
  its virtual machine and interrupts the statement once it has used ``budget`` seconds of the
  thread's CPU, or ``wall`` seconds in all (a read waiting on a cold disk). A statement that was
  only preempted (a busy machine) is not interrupted for that: the loop was stalled by the
  machine, not by the read, and reading it again on the thread only doubled its cost (1–6 % of
  ``status-100`` reads under a load of 8–13 on 2 cores, issue #16 item 8);
- never waits for a lock: the connection has no busy timeout, so a read that would wait fails at once;
- is one at a time per connection (a second thread using the same ``Database`` is refused).

Each refusal answers None, and the caller runs the statement again on its thread, which waits and
reads for as long as it needs (``smmpanel.db.direct_reads``). The connection is read only
(``query_only``) and runs each statement in autocommit, so it never writes, never checkpoints and
holds no snapshot between statements: it sees every commit as ``Database.read`` does.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from typing import Any

BUDGET_SECONDS = 0.002
"""How much of the loop's CPU one statement may take before it is moved to the thread."""
WALL_SECONDS = 0.02
"""How long one statement may hold the event loop in all (waiting on the disk, or preempted)."""
PROGRESS_STEPS = 200
"""SQLite virtual-machine steps between two looks at the clock: a balance takes ~15, a status of
100 orders ~2,000, so a short read is never interrupted to look and a long one is caught soon."""


class InlineReads:
    """One read-only ``sqlite3`` connection, opened on first use, for statements run on the caller's thread."""

    def __init__(
        self, path: str, *, budget: float = BUDGET_SECONDS, wall: float = WALL_SECONDS, steps: int = PROGRESS_STEPS
    ) -> None:
        self._path = path
        self._budget = budget
        self._wall = wall
        self._steps = steps
        self._conn: sqlite3.Connection | None = None
        self._deadline = 0.0
        self._wall_deadline = 0.0
        self._using = threading.Lock()
        self.refused = 0
        """Statements answered None so far (interrupted, locked, or the connection in use)."""

    def _over_budget(self) -> bool:
        return time.thread_time() > self._deadline or time.perf_counter() > self._wall_deadline

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread off: ``_using`` keeps the connection to one thread at a time, and the
        # process may serve from another thread's event loop later (tests, embedded servers).
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, cached_statements=256)
        try:
            conn.execute("PRAGMA busy_timeout=0")
            conn.execute("PRAGMA query_only=ON")
        except BaseException:
            conn.close()
            raise
        conn.set_progress_handler(self._over_budget, self._steps)
        self._conn = conn
        return conn

    def fetch(self, sql: str, parameters: Sequence[object]) -> list[Any] | None:
        """The statement's rows, or None when it must run on the thread instead."""
        if not self._using.acquire(blocking=False):
            self.refused += 1
            return None
        try:
            conn = self._conn or self._connect()
            self._deadline = time.thread_time() + self._budget
            self._wall_deadline = time.perf_counter() + self._wall
            return conn.execute(sql, parameters).fetchall()
        except sqlite3.OperationalError:  # interrupted, or the database is locked: the thread waits
            self.refused += 1
            return None
        finally:
            self._using.release()

    def close(self) -> None:
        with self._using:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()
