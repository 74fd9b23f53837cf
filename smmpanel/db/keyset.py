"""Keyset pagination: pages that cost the same on page 1 and page 10,000.

A page is asked for relative to an id already shown (``before`` it: older, or
``after`` it: newer), so the database walks an index from that id and stops after
``limit`` rows. No OFFSET (which reads and throws away every row before the page)
and no COUNT over all rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa


def keyset(
    query: sa.Select[Any], id_column: Any, *, before: int | None, after: int | None, limit: int
) -> sa.Select[Any]:
    """Rows older than ``before`` newest first, or newer than ``after`` oldest first (nearest first either way)."""
    if after is not None:
        return query.where(id_column > after).order_by(id_column.asc()).limit(limit)
    if before is not None:
        query = query.where(id_column < before)
    return query.order_by(id_column.desc()).limit(limit)


def keyset_union(
    arms: Sequence[tuple[sa.Select[Any], Any]], *, before: int | None, after: int | None, limit: int
) -> sa.Select[Any]:
    """``keyset`` over the rows of several queries at once, each a ``(query, id_column)`` of a table
    whose ids no other holds (``orders`` and ``orders_archive``).

    Each query's page is taken on its own index, then the pages are merged by id and cut to
    ``limit``: one statement, so one snapshot, and an order moving between the tables meanwhile
    is seen once, never twice or not at all.
    """
    pages = [keyset(query, key, before=before, after=after, limit=limit).subquery() for query, key in arms]
    merged = sa.union_all(*(sa.select(page) for page in pages)).subquery()
    nearest = merged.c.id.asc() if after is not None else merged.c.id.desc()
    return sa.select(merged).order_by(nearest).limit(limit)
