"""The operator's search by any part of a link, on an index of each back end (migration 0024).

The answer is today's: ``lower(link)`` contains ``lower(part)``, wildcards taken literally.
PostgreSQL asks it as ``ILIKE`` (the same test on a UTF-8 database), which a pg_trgm GIN
index answers; the pattern is written into the statement, so that each search is planned
for its own text (a shared generic plan would pick the index, or the scan, for all of them).
SQLite asks its FTS5 trigram table for candidates, a superset (it also folds non-ASCII case
and takes ``%`` and ``_`` as wildcards), and the exact test decides. A part shorter than a
trigram cannot use either index and is a scan of the orders, newest first, as it was.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from smmpanel.db.tables import orders

INDEXED_LENGTH = 3
"""Parts at least this long are searched on the index."""
_FTS = {
    name: sa.table(f"{name}_link_search", sa.column("rowid"), sa.column("link"))
    for name in ("orders", "orders_archive")
}
"""Each order table's FTS5 trigram table (migrations 0024 and 0025)."""


def _escaped(part: str) -> str:
    return part.replace("/", "//").replace("%", "/%").replace("_", "/_")


def link_contains(dialect: str, part: str, table: sa.Table = orders) -> list[sa.ColumnElement[Any]]:
    """The conditions that select the orders of ``table`` (or ``orders_archive``) whose link contains ``part``."""
    exact = table.c.link.icontains(part, autoescape=True)
    if len(part) < INDEXED_LENGTH:
        return [exact]
    if dialect == "postgresql":
        pattern: sa.BindParameter[str] = sa.bindparam(
            "link_pattern", f"%{_escaped(part)}%", unique=True, literal_execute=True
        )
        return [table.c.link.ilike(pattern, escape="/")]
    fts = _FTS[table.name]
    candidates = sa.select(fts.c.rowid).where(fts.c.link.like(f"%{part}%"))
    return [table.c.id.in_(candidates), exact]
