"""Pages of a long list, addressed by the ids at their edges (keyset pagination).

Every listing of the dashboard pages this way so that a customer with a million
orders gets their 40th page as fast as their first (see ``smmpanel.db.keyset``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

Fetch = Callable[[int | None, int | None, int], Awaitable[list[T]]]
"""``(before, after, limit)`` → rows nearest the cursor first, as ``smmpanel.db.keyset.keyset`` returns them."""

DEFAULT_SIZE = 25


@dataclass(frozen=True)
class Page(Generic[T]):
    """Items newest first; ``newer`` / ``older`` are the cursors of the neighbouring pages, if any."""

    items: list[T] = field(default_factory=list)
    newer: int | None = None
    older: int | None = None


async def keyset_page(
    fetch: Fetch[T], key: Callable[[T], int], *, before: int | None, after: int | None, limit: int = DEFAULT_SIZE
) -> Page[T]:
    """One page, plus whether there is more on each side: one extra row, or a one-row probe.

    ``after`` wins over ``before``. A page reached from a cursor probes the other side
    with one indexed row, rather than assuming: the links shown are always right.
    """
    if after is not None:
        rows = await fetch(None, after, limit + 1)
        more_newer = len(rows) > limit
        items = list(reversed(rows[:limit]))
        newer = key(items[0]) if more_newer else None
        older = key(items[-1]) if items and await fetch(key(items[-1]), None, 1) else None
        return Page(items, newer, older)
    rows = await fetch(before, None, limit + 1)
    items = rows[:limit]
    older = key(items[-1]) if len(rows) > limit else None
    newer = key(items[0]) if before is not None and items and await fetch(None, key(items[0]), 1) else None
    return Page(items, newer, older)
