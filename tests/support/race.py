"""Run use cases at the same moment, each from its own ``Database`` (as separate processes would).

Every thread connects first and then waits at a barrier, so that only the calls themselves
overlap. A ``Refused`` comes back as its message; anything else unexpected fails the test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from smmpanel.db.unit_of_work import Database
from smmpanel.errors import Refused

T = TypeVar("T")


def at_once(database_url: str, calls: list[Callable[[Database], Awaitable[T]]]) -> list[T | str]:
    """The result of each call (or the message it was refused with), in the order given."""
    barrier = threading.Barrier(len(calls))
    results: list[T | str | BaseException | None] = [None] * len(calls)

    def worker(index: int) -> None:
        async def attempt() -> T | str:
            db = Database(database_url, pool_size=2, cache_seconds=0)
            try:
                async with db.read():  # connect first, so that only the calls race
                    pass
                await asyncio.to_thread(barrier.wait, 60)
                try:
                    return await calls[index](db)
                except Refused as refused:
                    return refused.message
            finally:
                await db.close()

        try:
            results[index] = asyncio.run(attempt())
        except BaseException as error:  # reported below, with the others
            results[index] = error

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    unexpected = [result for result in results if result is None or isinstance(result, BaseException)]
    assert not unexpected, unexpected
    return [result for result in results if result is not None and not isinstance(result, BaseException)]
