"""The operator's search by any part of a link, on an index of each back end (migration 0024).

The answer is today's: ``lower(link)`` contains ``lower(part)``, wildcards taken literally.

The index is asked for a *probe*: a piece of the part, so every order that contains the part
contains the probe, and the exact test after it keeps the answer what it was. A GIN scan costs,
for each candidate its rarest trigram gives, a step through the list of every other trigram
of the pattern, and the trigrams of a panel's few hosts and of its path words (``/p/``,
``/video/``, ``watch?v=``) list millions of orders: so the probe is the longest id-like piece
of the part (a post code, a video id: digits among letters, rare by nature), or else the part
without the scheme and host it starts with (a pasted link, ``instagram.com/p/…``).

PostgreSQL asks the probe as ``ILIKE`` (the same test as ``lower() LIKE`` on a UTF-8 database),
which the pg_trgm GIN index answers; the pattern is written into the statement, so that each
search is planned for its own text: a part many orders have goes newest first along the primary
key and stops after a page, a rare one goes through the index (a shared generic plan would pick
one of them for all). When the probe is not the whole part, the exact test is
``strpos(lower(link), lower(part)) > 0``, which no index matches (it stays a filter, and the
planner takes it for a third of the rows rather than guessing from the part's length).
SQLite asks its FTS5 trigram table for the probe's candidates, a superset (it also folds
non-ASCII case and takes ``%`` and ``_`` as wildcards), and the exact test decides. SQLite has
no histogram to choose between the two plans PostgreSQL chooses from, and its planner takes
every candidate of the FTS5 table (a fifth of the orders for ``tiktok.com/@``) and sorts them:
so ``is_common`` counts the candidates first, up to ``common_candidates`` of them, and a part
that has that many is walked newest first along the primary key with the exact test alone,
which finds a page after about ``page × orders / candidates`` orders.

On PostgreSQL the trigram index also holds each order's status and customer (migration 0029,
``btree_gin``), so that a part a few thousand orders hold, with a status or a customer, is
narrowed inside the index to the few hundred orders that have both, instead of ANDing a
bitmap of every order of that status (900,000 at 10M: lossy in ``work_mem``, then a read of
every page that holds the part).

A part shorter than a trigram can use neither index: it is looked for among the newest
``SHORT_WINDOW`` order numbers only (``id`` above the newest id less the window, a range of
the primary key), so that such a search costs the same on any panel instead of reading every
order (37 s at 10M for a short part in no order). The page says so.
"""

from __future__ import annotations

import math
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import orders, orders_archive

INDEXED_LENGTH = 3
"""Parts at least this long are searched on the index."""
SHORT_WINDOW = 10_000
"""A shorter part is looked for among this many of the newest order numbers (a bounded walk)."""
_FTS = {
    name: sa.table(f"{name}_link_search", sa.column("rowid"), sa.column("link"))
    for name in ("orders", "orders_archive")
}
"""Each order table's FTS5 trigram table (migrations 0024 and 0025)."""
_HOST = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?[^\s/?#@:]*\.[a-z]{2,}(?=[/?#])", re.IGNORECASE)
"""A scheme and host (or a host alone, ``tiktok.com``) that a part starts with, up to its path."""
_PIECE = re.compile(r"[^/?=&#@:\s]+")
PAGE = 51
"""The rows a page asks for (``order_desk.PAGE_SIZE`` and one to know there is more)."""
MIN_COMMON = 1_000
"""A part is never called common with fewer candidates than this (a small panel fetches them all)."""
ID_LENGTH = 6
"""An id-like piece is this long at least: shorter ones with a digit (``v2``, ``2024``) are common."""


def probe(part: str) -> str:
    """What the index is asked for: the longest id-like piece of ``part`` (``ID_LENGTH`` characters or
    more between separators, a digit among them: a post code, a video id), else ``part`` without the
    scheme and host it starts with when what is left is still long enough, else ``part`` itself."""
    host = _HOST.match(part)
    rest = part[host.end() :] if host else part
    pieces: list[str] = _PIECE.findall(rest)
    ids = [piece for piece in pieces if len(piece) >= ID_LENGTH and any(c.isdigit() for c in piece)]
    if ids:
        return max(ids, key=len)
    return rest if len(rest) >= INDEXED_LENGTH else part


def common_candidates(orders_held: int) -> int:
    """How many candidates make a part common among ``orders_held`` orders: fetching ``n`` candidates
    costs about ``n`` row reads, walking newest first about ``PAGE · orders_held / n``; the two
    meet at ``n = √(PAGE · orders_held)`` (7,141 at 1M orders, 22,583 at 10M)."""
    return max(MIN_COMMON, math.isqrt(PAGE * orders_held))


async def is_common(conn: AsyncConnection, part: str) -> bool:
    """SQLite: whether the FTS5 table holds ``common_candidates`` candidates for ``part``'s probe, counted
    no further than that (FTS5 stops early under a LIMIT). PostgreSQL plans this from ``orders.link``'s
    histogram (migration 0026): always False there, as for a part too short for the index."""
    if conn.dialect.name == "postgresql" or is_short(part):
        return False
    held = int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(orders.c.id), 0)))).scalar_one())
    enough = common_candidates(held)
    fts = _FTS[orders.name]
    candidates = sa.select(fts.c.rowid).where(fts.c.link.like(f"%{probe(part)}%")).limit(enough).subquery()
    found = (await conn.execute(sa.select(sa.func.count()).select_from(candidates))).scalar_one()
    return int(found) >= enough


def is_short(part: str) -> bool:
    """A part no index can answer: searched among the newest ``SHORT_WINDOW`` order numbers only."""
    return len(part) < INDEXED_LENGTH


def _newest_id() -> sa.ColumnElement[int]:
    """The newest order's id, in either table (each a one-row walk of its primary key; 0 when none)."""
    each = sa.union_all(*(sa.select(sa.func.max(table.c.id).label("id")) for table in (orders, orders_archive)))
    newest = each.subquery("newest")
    return sa.select(sa.func.coalesce(sa.func.max(newest.c.id), 0)).scalar_subquery()


def _escaped(part: str) -> str:
    return part.replace("/", "//").replace("%", "/%").replace("_", "/_")


def link_contains(
    dialect: str, part: str, table: sa.Table = orders, *, common: bool = False
) -> list[sa.ColumnElement[Any]]:
    """The conditions that select the orders of ``table`` (or ``orders_archive``) whose link contains ``part``;
    ``common``: ``is_common`` said so (SQLite), the exact test alone, for a walk newest first."""
    exact = table.c.link.icontains(part, autoescape=True)
    if is_short(part):
        return [exact, table.c.id > _newest_id() - SHORT_WINDOW]
    if common and dialect != "postgresql":
        return [exact]
    asked = probe(part)
    if dialect == "postgresql":
        pattern: sa.BindParameter[str] = sa.bindparam(
            "link_pattern", f"%{_escaped(asked)}%", unique=True, literal_execute=True
        )
        indexed = table.c.link.ilike(pattern, escape="/")
        if asked == part:
            return [indexed]
        return [indexed, sa.func.strpos(sa.func.lower(table.c.link), sa.func.lower(part)) > 0]
    fts = _FTS[table.name]
    candidates = sa.select(fts.c.rowid).where(fts.c.link.like(f"%{asked}%"))
    return [table.c.id.in_(candidates), exact]
