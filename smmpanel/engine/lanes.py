"""One lane per provider: its exchanges run as tasks of their own, so a slow provider holds up only itself.

A pass claims due work from the database and hands each exchange to its provider's lane,
then moves on without waiting. A lane runs at most ``provider_concurrency`` exchanges at
once; while it has that many waiting, running or being recorded it is *busy*, and the passes
claim nothing more for that provider: a provider that stalls until its deadline keeps its own
orders waiting in the database, not in memory, while every other provider's work goes on.

An exchange may answer what is left to do once the provider has answered (writing the answer
down): that runs after its place in the lane is given to the next exchange, so the lane's
calls never wait on the database's writes, and the writes of many exchanges, arriving
together, are written together (``engine.coalesce``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

log = logging.getLogger("smmpanel.engine")

After = Callable[[], Awaitable[None]]
"""What is left of an exchange once the provider has answered: no longer in the lane's count of calls."""
Job = Callable[[], Awaitable[After | None]]


class Lanes:
    def __init__(self, per_provider: int, database_slots: int) -> None:
        self._per_provider = per_provider
        self._gates: dict[int, asyncio.Semaphore] = {}
        self._tasks: defaultdict[int, set[asyncio.Task[None]]] = defaultdict(set)
        # A job takes a pooled connection at each of its database steps; with more steps at once
        # than the pool has connections, they would queue on the pool, whose timeout fails them.
        # One connection is left for the passes that claim work.
        self._database = asyncio.Semaphore(max(1, database_slots - 1))
        self.room = asyncio.Event()
        """Set when a full lane gets a free place: the pass that passed its provider by may claim
        for it again at once, instead of resting until the engine's interval has gone by."""

    def busy(self) -> set[int]:
        """Providers whose lane is full: claim nothing more for them until it drains."""
        return {provider_id for provider_id, tasks in self._tasks.items() if len(tasks) >= self._per_provider}

    def submit(self, provider_id: int, job: Job, what: str) -> None:
        """Run ``job`` in the provider's lane, once one of its places is free; ``what`` names it in logs."""
        gate = self._gates.setdefault(provider_id, asyncio.Semaphore(self._per_provider))

        async def run() -> None:
            try:
                async with gate:
                    after = await job()
                if after is not None:
                    await after()
            except Exception:  # one failed exchange must not end the lane or the engine
                log.exception("%s failed", what)

        tasks = self._tasks[provider_id]
        task = asyncio.create_task(run())
        tasks.add(task)
        task.add_done_callback(partial(self._done, tasks))

    def _done(self, tasks: set[asyncio.Task[None]], task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if len(tasks) == self._per_provider - 1:  # it was full a moment ago
            self.room.set()

    @contextlib.asynccontextmanager
    async def database(self) -> AsyncIterator[None]:
        """Hold one of the lanes' database places for one step of a job."""
        async with self._database:
            yield

    async def drain(self) -> None:
        """Wait until every lane is empty, jobs submitted meanwhile included."""
        while pending := [task for tasks in self._tasks.values() for task in tasks]:
            await asyncio.gather(*pending, return_exceptions=True)
