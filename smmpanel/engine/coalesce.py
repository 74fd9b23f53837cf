"""Group commit: many concurrent callers' writes of one kind, made in one transaction.

Each of a lane's sends marks its order ``sending`` and records its answer on its own; a
transaction per order costs a round trip or three and a commit each. A ``Coalescer`` gathers
the items submitted while its previous batch was being written (or in the same turn of the
event loop) and writes them with one call; every caller still waits for its own item to be
written, and gets its own result or the batch's exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    def __init__(self, write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]], most: int) -> None:
        """``write`` takes a batch of at most ``most`` items and answers one result per item, in order."""
        self._write = write
        self._most = most
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all())
        return await done

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
                try:
                    results = await self._write([item for item, _ in batch])
                except Exception as error:  # each caller handles it as if its own write had failed
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    continue
                except BaseException:  # cancelled: so are the callers' waits, never left hanging
                    self._waiting = batch + self._waiting
                    raise
                for (_, done), result in zip(batch, results, strict=True):
                    if not done.done():
                        done.set_result(result)
        finally:
            for _, done in self._waiting:
                done.cancel()
            self._waiting = []
            self._writer = None
