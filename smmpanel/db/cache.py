"""Process-local caches of rows that are read on every API call and rarely change.

Three topics: ``keys`` (an API key's customer: the ``users`` row, never its balance),
``catalog`` (the services and their categories), ``settings`` (the panel's branding,
read by every page) and ``currencies`` (the display currencies). Balances, orders and prices per
customer are never cached.

How fresh an answer is:

- **In the process that made a change, at once.** Every statement that writes a watched
  table through an engine of this process marks its connection (a ``users`` update that
  only moves a balance does not count); when that transaction has committed, the topic is
  cleared for its database, in every ``Database`` of the process.
- **In other processes** (another ``serve --workers`` process, ``smmpanel worker``, the CLI)
  within ``ttl`` seconds: an entry is kept at most that long after it was read
  (``SMMPANEL_CACHE_SECONDS``, default 2; 0 turns caching off).

A read that began before a change was committed never stores what it read: each topic has a
generation, bumped by every clearing, and an answer is kept only under the generation that
was current before the read began.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Delete, Insert, Update

KEYS = "keys"
CATALOG = "catalog"
SETTINGS = "settings"
"""The panel's settings (name, colours, signup mode, ...), read by every page."""
CURRENCIES = "currencies"
DEFAULT_TTL = 2.0
_TOPIC_OF_TABLE = {
    "users": KEYS,
    "services": CATALOG,
    "categories": CATALOG,
    "panel_settings": SETTINGS,
    "currencies": CURRENCIES,
}
_STALE = "smmpanel_stale_topics"
T = TypeVar("T")
_MAX_ENTRIES = 100_000
"""A bound on memory: past it a topic starts afresh (entries are small: one customer each)."""


class TopicCache:
    """The entries of one topic for one database, each with the moment it expires."""

    def __init__(self) -> None:
        self.generation = 0
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._loading: dict[tuple[int, Hashable], asyncio.Future[Any]] = {}

    async def fetch(
        self, key: Hashable, load: Callable[[], Awaitable[T]], ttl: float, *, keep: Callable[[T], bool] | None = None
    ) -> T:
        """The entry, else what ``load`` answers (kept when ``keep`` allows it).

        Concurrent misses of one key in one event loop share one load: when an entry of the
        whole catalog expires under load, the catalog is read once, not once per request.
        """
        if ttl <= 0:  # caching off: always the database's answer
            return await load()
        hit, value = self.get(key)
        if hit:
            return value  # type: ignore[no-any-return]
        loop = asyncio.get_running_loop()
        flight = (id(loop), key)
        pending = self._loading.get(flight)
        if pending is not None and pending.get_loop() is loop:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request itself was cancelled
        future: asyncio.Future[Any] = loop.create_future()
        self._loading[flight] = future
        generation = self.generation
        try:
            value = await load()
        except BaseException as error:
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(error)
                future.exception()  # retrieved: the waiters, if any, raise it themselves
            raise
        finally:
            if self._loading.get(flight) is future:
                del self._loading[flight]
        if keep is None or keep(value):
            self.put(key, value, generation, ttl)
        future.set_result(value)
        return value

    def get(self, key: Hashable) -> tuple[bool, Any]:
        found = self._entries.get(key)
        if found is None:
            return False, None
        if found[0] < time.monotonic():
            self._entries.pop(key, None)
            return False, None
        return True, found[1]

    def put(self, key: Hashable, value: Any, generation: int, ttl: float) -> None:
        """Keep ``value`` unless the topic was cleared since ``generation`` was read."""
        if ttl <= 0 or generation != self.generation:
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + ttl, value)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._loading.clear()  # a load begun before the change must not serve requests that come after it


_caches: dict[tuple[str, str], TopicCache] = {}


def topic(database: str, name: str) -> TopicCache:
    """The process's cache of topic ``name`` for ``database`` (a rendered async URL)."""
    found = _caches.get((database, name))
    if found is None:
        found = _caches[(database, name)] = TopicCache()
    return found


def clear(database: str, names: set[str]) -> None:
    for name in names:
        topic(database, name).clear()


def clear_all() -> None:
    """Forget everything, for whoever changed a database behind the panel's back (tests that truncate)."""
    for cache in _caches.values():
        cache.clear()


def database_key(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _written_columns(statement: Update, params: Any) -> set[str]:
    """The statement's SET columns and the parameters that name a column (SQLAlchemy sets those
    too); other parameters are bound values, such as a pre-built statement's ``user_id``."""
    columns = set(statement.table.c.keys())
    names = {str(getattr(column, "key", column)) for column in statement._values or {}}
    rows = params if isinstance(params, list | tuple) else [params]
    for row in rows:
        if isinstance(row, dict):
            names |= set(row) & columns
    return names


def _topic_written(statement: object, params: Any) -> str | None:
    if not isinstance(statement, Insert | Update | Delete):
        return None
    name = _TOPIC_OF_TABLE.get(getattr(statement.table, "name", ""))
    if name == KEYS:
        if isinstance(statement, Insert):
            return None  # a new customer: nothing cached can be wrong (misses are not cached)
        if isinstance(statement, Update) and _written_columns(statement, params) <= {"balance"}:
            return None  # a balance move: balances are never cached
    return name


def watch_writes(engine: AsyncEngine) -> None:
    """Mark each connection that writes a watched table (see ``take_stale``)."""

    @event.listens_for(engine.sync_engine, "after_execute")
    def _after_execute(
        conn: Connection, statement: object, multiparams: Any, params: Any, options: Any, result: Any
    ) -> None:
        name = _topic_written(statement, multiparams or params)
        if name is not None:
            conn.info.setdefault(_STALE, set()).add(name)


def take_stale(info: dict[Any, Any]) -> set[str]:
    """The topics a connection wrote since last asked; call it when its transaction has ended."""
    stale: set[str] = info.pop(_STALE, set())
    return stale
