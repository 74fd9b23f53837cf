"""Conditions on a list of ids that keep one statement text, whatever the list's length.

SQLAlchemy's ``column.in_(ids)`` expands into ``IN ($1, …, $n)``: on PostgreSQL asyncpg
prepares each text, and after five runs the server may switch a prepared statement to its
generic plan, which does not know how many ids (or whose) it will get, and with
``user_id = $1 AND id IN (…)`` walks the customer's whole order history
(benchmarks/RESULTS.md: ``status`` of 100 orders fell from 1,571 to 47 requests a second at
1,000,000 orders). One array parameter, ``= ANY($1::BIGINT[])``, plans as a lookup of that
many ids every time. SQLite has no arrays and no generic plans: it keeps its ``IN`` list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

_ID_ARRAY = postgresql.ARRAY(sa.BigInteger)


def is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


def ids_in(conn: AsyncConnection, column: sa.ColumnElement[Any], ids: Iterable[int]) -> sa.ColumnElement[bool]:
    """``column`` is one of ``ids``: one array parameter on PostgreSQL, an ``IN`` list elsewhere."""
    wanted = sorted(set(ids))
    if is_postgres(conn):
        return column == sa.any_(sa.bindparam(None, wanted, type_=_ID_ARRAY))
    return column.in_(wanted)


def ids_listed(column: sa.ColumnElement[Any], name: str, *, postgres: bool) -> sa.ColumnElement[bool]:
    """``ids_in`` for a statement built once: the ids come in the parameter ``name`` at each run."""
    if postgres:
        return column == sa.any_(sa.bindparam(name, type_=_ID_ARRAY))
    return column.in_(sa.bindparam(name, expanding=True))
