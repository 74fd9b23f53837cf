"""The limit for ``benchmarks.api``: API v2's benchmark scenarios as a bare ASGI application.

No framework, no validation beyond what the SQL needs, no ledger, no caching. It answers
``balance``, ``status`` (``order`` or ``orders``), ``services`` and ``add`` with the same
answers as smmpanel, on the same database, through the **raw drivers** smmpanel uses under
SQLAlchemy (asyncpg; aiosqlite with the same PRAGMAs, pool size and write lock), served by
the same ASGI server (uvicorn with uvloop and httptools, ``--workers N`` the same way).

``--driver sqlite3`` (``benchmarks.api``'s server ``bare-sqlite3``, issue #16 item 8) is the
lower bound on SQLite: the standard ``sqlite3`` module called straight on the event loop (one
connection, no thread, no pool: each statement blocks the loop while it runs) and the standard
``json`` module, the same statements and the same bytes on the wire.

Statements per request, all by index: the key's customer (``SELECT`` of the ``users`` row
by ``api_key_hash``, as smmpanel does without a cache), then

- ``balance``: ``SELECT balance FROM users WHERE id = ?``
- ``status``: one ``SELECT`` of the columns a status answers and the owner ``WHERE id IN (…)``
  (PostgreSQL: ``id = ANY($1)``, one array parameter), the owner checked on the rows, as smmpanel
- ``services``: ``SELECT`` of the enabled services ``ORDER BY position, id``
- ``add``: in one transaction, the service by id, the conditional debit
  (``UPDATE … WHERE balance + ? >= 0 RETURNING balance``) and the ``INSERT`` of the order.

Reads run in autocommit (no ``BEGIN``/``COMMIT`` round trips).

    python -m benchmarks.bare --database-url postgresql://postgres@127.0.0.1/db --port 8001 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import aiosqlite
import asyncpg
import orjson
import uvicorn
from sqlalchemy.engine import make_url

from smmpanel.clock import utcnow
from smmpanel.money import format_amount, per_thousand_charge

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Params = dict[str, str]

CURRENCY = "USD"
_HEADERS = [(b"content-type", b"application/json; charset=utf-8")]
_ORDER_COLUMNS = "id, user_id, charge, start_count, status, remains"  # as smmpanel.db.direct_reads
_USER_COLUMNS = "id, username, api_key_hash, balance, disabled, created_at, password_hash, role, discount"
_SERVICE_COLUMNS = (
    "id, name, category, type, rate, min, max, refill, cancel, description, enabled, refill_days, "
    "deny_duplicate_link, position, created_at, updated_at, price_locked"
)


_DOLLAR = re.compile(r"\$(\d+)")


class Refused(Exception):
    pass


class Backend:
    """The few statements the scenarios need, with ``$n`` placeholders on both back ends."""

    async def fetch(self, sql: str, *args: object) -> list[Any]:
        raise NotImplementedError

    def ids_condition(self, number: int, ids: list[int]) -> tuple[str, list[object]]:
        """``id`` is one of ``ids``, as smmpanel.db.direct_reads writes it for this back end."""
        raise NotImplementedError

    async def fetchrow(self, sql: str, *args: object) -> Any:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: object) -> Any:
        row = await self.fetchrow(sql, *args)
        return None if row is None else row[0]

    def transaction(self) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class Postgres(Backend):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, size: int) -> Postgres:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        return cls(await asyncpg.create_pool(dsn, min_size=1, max_size=size))

    async def fetch(self, sql: str, *args: object) -> list[Any]:
        return list(await self.pool.fetch(sql, *args))

    def ids_condition(self, number: int, ids: list[int]) -> tuple[str, list[object]]:
        return f"id = ANY(${number}::bigint[])", [ids]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    async def close(self) -> None:
        await self.pool.close()


class _SqliteTx(Backend):
    """One aiosqlite connection inside ``BEGIN IMMEDIATE``, with asyncpg's ``fetch`` names."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: object) -> list[Any]:
        return list(await self.conn.execute_fetchall(_qmarks(sql), args))


@functools.lru_cache(maxsize=512)
def _qmarks(sql: str) -> str:
    """asyncpg's ``$n`` as SQLite's ``?n`` (numbered, so one value can be used twice)."""
    return _DOLLAR.sub(r"?\1", sql)


_SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL")
"""As ``smmpanel.db.engine`` sets up each SQLite connection."""


def _sqlite_ids(number: int, ids: list[int]) -> tuple[str, list[object]]:
    return f"id IN ({', '.join(f'${n}' for n in range(number, number + len(ids)))})", list(ids)


class Sqlite(Backend):
    """A pool of aiosqlite connections as smmpanel's engine sets them up (WAL, busy timeout, …)."""

    def __init__(self, connections: list[aiosqlite.Connection]) -> None:
        self.connections = connections
        self.idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for conn in connections:
            self.idle.put_nowait(conn)
        self.write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, size: int) -> Sqlite:
        path = make_url(url).database or ""
        connections = []
        for _ in range(size):
            conn = await aiosqlite.connect(path, isolation_level=None)
            conn.row_factory = aiosqlite.Row
            for pragma in _SQLITE_PRAGMAS:
                await conn.execute(f"PRAGMA {pragma}")
            connections.append(conn)
        return cls(connections)

    def ids_condition(self, number: int, ids: list[int]) -> tuple[str, list[object]]:
        return _sqlite_ids(number, ids)

    async def fetch(self, sql: str, *args: object) -> list[Any]:
        conn = await self.idle.get()
        try:
            return list(await conn.execute_fetchall(_qmarks(sql), args))
        finally:
            self.idle.put_nowait(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        async with self.write_lock:
            conn = await self.idle.get()
            try:
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    yield _SqliteTx(conn)
                except BaseException:
                    await conn.execute("ROLLBACK")
                    raise
                await conn.execute("COMMIT")
            finally:
                self.idle.put_nowait(conn)

    async def close(self) -> None:
        for conn in self.connections:
            await conn.close()


class InlineSqlite(Backend):
    """``--driver sqlite3``: one stdlib ``sqlite3`` connection used on the event loop's own thread.

    Nothing is awaited between a statement and its rows, so no request interleaves with another
    one's transaction: the write lock of ``Sqlite`` has nothing to guard here.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, url: str, size: int) -> InlineSqlite:
        conn = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in _SQLITE_PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        return cls(conn)

    def ids_condition(self, number: int, ids: list[int]) -> tuple[str, list[object]]:
        return _sqlite_ids(number, ids)

    async def fetch(self, sql: str, *args: object) -> list[Any]:
        return self.conn.execute(_qmarks(sql), args).fetchall()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    async def close(self) -> None:
        self.conn.close()


def _orjson(answer: object) -> bytes:
    return orjson.dumps(answer)


def _stdlib_json(answer: object) -> bytes:
    """The standard library's ``json``, writing the same bytes as orjson (compact, UTF-8)."""
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()


async def _balance(db: Backend, user_id: int, params: Params) -> object:
    row = await db.fetchrow("SELECT balance FROM users WHERE id = $1", user_id)
    return {"balance": format_amount(int(row[0])), "currency": CURRENCY}


def _order_status(row: Any) -> dict[str, object]:
    return {
        "charge": format_amount(int(row["charge"])),
        "start_count": str(row["start_count"]),
        "status": row["status"],
        "remains": str(row["remains"]),
        "currency": CURRENCY,
    }


async def _status(db: Backend, user_id: int, params: Params) -> object:
    many = "orders" in params
    tokens = [token.strip() for token in (params["orders"] if many else params.get("order", "")).split(",")]
    tokens = list(dict.fromkeys(token for token in tokens if token.isdigit()))
    ids = [int(token) for token in tokens]
    found: dict[int, Any] = {}
    if ids:
        condition, values = db.ids_condition(1, ids)
        sql = f"SELECT {_ORDER_COLUMNS} FROM orders WHERE {condition}"
        found = {int(row["id"]): row for row in await db.fetch(sql, *values) if row["user_id"] == user_id}
    if not many:
        if not ids or ids[0] not in found:
            raise Refused("Incorrect order ID")
        return _order_status(found[ids[0]])
    answer: dict[str, object] = {}
    for token, number in zip(tokens, ids, strict=True):
        row = found.get(number)
        answer[token] = _order_status(row) if row is not None else {"error": "Incorrect order ID"}
    return answer


async def _services(db: Backend, user_id: int, params: Params) -> object:
    rows = await db.fetch(f"SELECT {_SERVICE_COLUMNS} FROM services WHERE enabled = $1 ORDER BY position, id", True)
    items = []
    for row in rows:
        item: dict[str, object] = {
            "service": row["id"],
            "name": row["name"],
            "type": row["type"],
            "category": row["category"],
            "rate": format_amount(int(row["rate"])),
            "min": str(row["min"]),
            "max": str(row["max"]),
            "refill": bool(row["refill"]),
            "cancel": bool(row["cancel"]),
        }
        if row["description"]:
            item["description"] = row["description"]
        items.append(item)
    return items


async def _add(db: Backend, user_id: int, params: Params) -> object:
    service_id, quantity = int(params.get("service") or 0), int(params.get("quantity") or 0)
    now = utcnow()
    async with db.transaction() as tx:
        service = await tx.fetchrow(f"SELECT {_SERVICE_COLUMNS} FROM services WHERE id = $1", service_id)
        if service is None or not service["enabled"]:
            raise Refused("Incorrect service ID")
        charge = per_thousand_charge(int(service["rate"]), quantity)
        debit = "UPDATE users SET balance = balance + $1 WHERE id = $2 AND balance + $1 >= 0 RETURNING balance"
        if await tx.fetchval(debit, -charge, user_id) is None:
            raise Refused("Not enough funds on balance")
        order_id = await tx.fetchval(
            "INSERT INTO orders (user_id, service_id, link, quantity, details, charge, status, remains, "
            "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            user_id,
            service_id,
            params.get("link", ""),
            quantity,
            "{}",
            charge,
            "Pending",
            quantity,
            now,
            now,
        )
    return {"order": int(order_id)}


ACTIONS: dict[str, Callable[[Backend, int, Params], Awaitable[object]]] = {
    "balance": _balance,
    "status": _status,
    "services": _services,
    "add": _add,
}


class BareApp:
    """The ASGI callable: read the body, find the key's customer, run the action, answer JSON."""

    def __init__(self, database_url: str, pool_size: int, driver: str = "default") -> None:
        self.database_url = database_url
        self.pool_size = pool_size
        self.inline = driver == "sqlite3"
        self.dumps = _stdlib_json if self.inline else _orjson
        self.db: Backend | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        params = dict(parse_qsl(scope.get("query_string", b"").decode()))
        params.update(parse_qsl(body.decode()))
        try:
            answer = await self._answer(params)
        except Refused as refused:
            answer = {"error": str(refused)}
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await send({"type": "http.response.body", "body": self.dumps(answer)})

    async def _answer(self, params: Params) -> object:
        assert self.db is not None
        key_hash = hashlib.sha256(params.get("key", "").encode()).hexdigest()
        user = await self.db.fetchrow(f"SELECT {_USER_COLUMNS} FROM users WHERE api_key_hash = $1", key_hash)
        if user is None or user["disabled"]:
            raise Refused("Invalid API key")
        action = ACTIONS.get(params.get("action", ""))
        if action is None:
            raise Refused("Incorrect request")
        return await action(self.db, int(user["id"]), params)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                opener: Callable[[str, int], Awaitable[Backend]] = Postgres.open
                if self.database_url.startswith("sqlite"):
                    opener = InlineSqlite.open if self.inline else Sqlite.open
                self.db = await opener(self.database_url, self.pool_size)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.db is not None:
                    await self.db.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def app_from_environment() -> BareApp:
    """The factory each ``--workers N`` process calls, as smmpanel's ``app_from_environment``."""
    return BareApp(
        os.environ["BARE_DATABASE_URL"],
        int(os.environ.get("BARE_POOL_SIZE", "10")),
        os.environ.get("BARE_DRIVER", "default"),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pool-size", type=int, default=10, help="as SMMPANEL_DB_POOL_SIZE")
    parser.add_argument(
        "--driver",
        choices=("default", "sqlite3"),
        default="default",
        help="default: smmpanel's drivers (asyncpg, aiosqlite); sqlite3: the stdlib module on the event loop",
    )
    args = parser.parse_args(argv)
    if args.driver == "sqlite3" and not args.database_url.startswith("sqlite"):
        parser.error("--driver sqlite3 needs a sqlite:/// database URL")
    os.environ["BARE_DATABASE_URL"] = args.database_url
    os.environ["BARE_POOL_SIZE"] = str(args.pool_size)
    os.environ["BARE_DRIVER"] = args.driver
    # The same uvicorn call as ``smmpanel serve`` (smmpanel.server): same loop, parser, logging.
    if args.workers > 1:
        uvicorn.run(
            "benchmarks.bare:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            server_header=False,
        )
        return
    uvicorn.run(app_from_environment(), host=args.host, port=args.port, log_level="info", server_header=False)


if __name__ == "__main__":
    main()
