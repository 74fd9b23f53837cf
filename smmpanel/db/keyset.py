"""Keyset pagination: pages that cost the same on page 1 and page 10,000.

A page is asked for relative to an id already shown (``before`` it: older, or
``after`` it: newer), so the database walks an index from that id and stops after
``limit`` rows. No OFFSET (which reads and throws away every row before the page)
and no COUNT over all rows.
"""

from __future__ import annotations

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
