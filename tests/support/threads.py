"""Run blocking set-up code in its own thread.

Playwright's sync API keeps an event loop running in the test's thread, where
``asyncio.run`` (used by migrations and by the panel driver) refuses to start.
A short-lived thread has no loop, so the same code works with or without a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def in_thread(work: Callable[[], T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()
