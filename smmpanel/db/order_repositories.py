"""Orders wherever they are: the reads and writes of ``orders`` and ``orders_archive`` for the use cases.

A lookup of one order by id falls back to the archive, a list reads both tables in one
statement, and a writer that locks an order moves it back first (``smmpanel.db.order_archive``).
The engine's claims and sends are ``dispatch_repositories``', the admin API's listings
``admin_api_repositories``'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.id_lists import ids_in, ids_listed, is_postgres
from smmpanel.db.keyset import keyset_union
from smmpanel.db.link_search import link_contains
from smmpanel.db.order_archive import OrderArchive, archived
from smmpanel.db.tables import orders, orders_archive, providers, services, users
from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.orders import ACTIVE_STATUSES, Order, OrderStatus


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """What a customer narrowed their order list to; None means any."""

    order_id: int | None = None
    link: str | None = None
    status: str | None = None
    service_id: int | None = None
    drip_feeds: bool = False
    subscriptions: bool = False
    """Only Subscriptions-type orders (paid per post)."""


@dataclass(frozen=True, slots=True)
class OrderSearch:
    """What an operator narrowed the list of all orders to; None means any.

    ``link`` matches any part of a link (``smmpanel.db.link_search``: a trigram index);
    ``upstream_id`` is the provider's order id, exactly (on the (provider_id, provider_order_id)
    index, one probe per provider); the other fields ride the (user_id, id) and (status, id) indexes.
    """

    order_id: int | None = None
    link: str | None = None
    link_common: bool = False
    """SQLite: ``link`` is walked newest first, not asked of the FTS5 table (``link_search.is_common``)."""
    status: str | None = None
    user_id: int | None = None
    service_id: int | None = None
    provider_id: int | None = None
    upstream_id: str | None = None


_ORDER_COLUMNS = [
    orders.c.id,
    orders.c.user_id,
    orders.c.service_id,
    orders.c.link,
    orders.c.quantity,
    orders.c.runs,
    orders.c.interval,
    orders.c.runs_done,
    orders.c.details,
    orders.c.charge,
    orders.c.refunded,
    orders.c.status,
    orders.c.start_count,
    orders.c.remains,
    orders.c.cancel_requested,
    orders.c.created_at,
    orders.c.finished_at,
    orders.c.provider_id,
    orders.c.provider_order_id,
    orders.c.upstream_charge,
    orders.c.dispatch,
    orders.c.attention_reason,
    orders.c.cancel_state,
    orders.c.parent_id,
    orders.c.stopped_at,
    orders.c.attempts,
]


# Built once: building a statement costs more CPU than SQLite takes to run it (benchmarks/RESULTS.md, "API v2").
_UPDATE_ORDER = orders.update().where(orders.c.id == sa.bindparam("order_id"))
_ADD_ORDER = orders.insert().returning(orders.c.id)
_SUBSCRIPTION_SERVICES = sa.select(services.c.id).where(services.c.type == ServiceType.SUBSCRIPTIONS.value)

_ARCHIVED_COLUMNS = archived(_ORDER_COLUMNS)
_ORDER_TABLES = ((orders, _ORDER_COLUMNS), (orders_archive, _ARCHIVED_COLUMNS))
"""Each table an order may be in, with its columns: the lists read both in one statement."""
_ANYWHERE = sa.union_all(sa.select(*_ORDER_COLUMNS), sa.select(*_ARCHIVED_COLUMNS)).subquery("anywhere")
"""Both tables as one: an order not found in ``orders`` is looked for again in both, in one
statement (one snapshot), so one that moves between the two reads is still found."""

_ORDERS_BY_IDS = {
    (postgres, archive): sa.select(*columns).where(ids_listed(source.c.id, "order_ids", postgres=postgres))
    for postgres in (False, True)
    for archive, source, columns in ((False, orders, _ORDER_COLUMNS), (True, _ANYWHERE, list(_ANYWHERE.c)))
}
"""Orders by id, one statement per back end, then for the ids not found one of both tables
(``smmpanel.db.id_lists``). By id alone, the owner checked on the rows: with ``user_id = :user_id``
beside the ids a generic plan walks the customer's whole history (``smmpanel.db.direct_reads``)."""


def _order(row: Any) -> Order:
    return _order_of(row._asdict())


def _order_of(values: dict[str, Any]) -> Order:
    values["status"] = OrderStatus(values["status"])
    return Order(**values)


class Orders:
    """Orders wherever they are: the lookups of one order by id fall back to ``orders_archive``."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.archive = OrderArchive(conn)

    async def add(self, values: dict[str, Any], now: datetime) -> int:
        result = await self._conn.execute(_ADD_ORDER, {**values, "created_at": now, "updated_at": now})
        return int(result.scalar_one())

    async def get(self, order_id: int, *, for_update: bool = False) -> Order | None:
        """One order; ``for_update`` locks it, after moving it back out of the archive if it was there."""
        query = sa.select(*_ORDER_COLUMNS).where(orders.c.id == order_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None and for_update and await self.archive.restore(order_id):
            row = (await self._conn.execute(query)).first()
        elif row is None and not for_update:
            row = (await self._conn.execute(sa.select(_ANYWHERE).where(_ANYWHERE.c.id == order_id))).first()
        return _order(row) if row else None

    async def of_customer(self, user_id: int, order_ids: Sequence[int]) -> dict[int, Order]:
        """The customer's own orders among ``order_ids``; anyone else's are simply absent."""
        found: dict[int, Order] = {}
        wanted = sorted(set(order_ids))
        for archive in (False, True):
            if not wanted:
                break
            query = _ORDERS_BY_IDS[is_postgres(self._conn), archive]
            rows = (await self._conn.execute(query, {"order_ids": wanted})).all()
            found.update((row.id, _order(row)) for row in rows if row.user_id == user_id)
            seen = {row.id for row in rows}
            wanted = [order_id for order_id in wanted if order_id not in seen]
        return found

    async def has_active_with_link(self, user_id: int, service_id: int, link: str) -> bool:
        row = await self._conn.execute(
            sa.select(orders.c.id)
            .where(
                orders.c.user_id == user_id,
                orders.c.link == link,
                orders.c.service_id == service_id,
                orders.c.status.in_([status.value for status in ACTIVE_STATUSES]),
            )
            .limit(1)
        )
        return row.first() is not None

    async def update(self, order_id: int, values: dict[str, Any], now: datetime) -> None:
        await self._conn.execute(orders.update().where(orders.c.id == order_id).values(**values, updated_at=now))

    async def update_many(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Write many orders in one statement (executemany); each row names its ``order_id``.

        Every row must set the same columns.
        """
        if rows:
            await self._conn.execute(_UPDATE_ORDER, [{**row, "updated_at": now} for row in rows])

    async def many(self, order_ids: Sequence[int], *, for_update: bool = False) -> dict[int, Order]:
        """``for_update`` locks the rows in id order, so that two batches can never deadlock each other.

        Locked, only orders in ``orders`` are found (the engine's batches: running orders, never
        archived); unlocked, the ones missing there are looked for in the archive.
        """
        if not order_ids:
            return {}
        query = sa.select(*_ORDER_COLUMNS).where(ids_in(self._conn, orders.c.id, order_ids))
        if for_update:
            query = query.order_by(orders.c.id).with_for_update()
        found = {row.id: _order(row) for row in await self._conn.execute(query)}
        missing = set(order_ids) - found.keys()
        if missing and not for_update:
            query = sa.select(_ANYWHERE).where(ids_in(self._conn, _ANYWHERE.c.id, missing))
            found.update((row.id, _order(row)) for row in await self._conn.execute(query))
        return found

    async def children(self, parent_id: int) -> list[Order]:
        """A drip-feed's runs, archived or not, oldest first."""
        arms = [sa.select(*columns).where(table.c.parent_id == parent_id) for table, columns in _ORDER_TABLES]
        both = sa.union_all(*arms).subquery()
        rows = await self._conn.execute(sa.select(both).order_by(both.c.id))
        return [_order(row) for row in rows]

    async def in_dispatch(self, state: str, limit: int) -> list[Order]:
        rows = await self._conn.execute(
            sa.select(*_ORDER_COLUMNS).where(orders.c.dispatch == state).order_by(orders.c.id).limit(limit)
        )
        return [_order(row) for row in rows]

    async def with_upstream_id(self, provider_id: int, provider_order_id: str) -> int | None:
        """The local order a provider's order id already belongs to, archived or not (migration 0028
        keeps it to one order across both tables)."""
        arms = [
            sa.select(table.c.id).where(
                table.c.provider_id == provider_id, table.c.provider_order_id == provider_order_id
            )
            for table, _ in _ORDER_TABLES
        ]
        row = await self._conn.execute(sa.union_all(*arms).limit(1))
        found = row.scalar_one_or_none()
        return None if found is None else int(found)

    async def active_count_for_provider(self, provider_id: int) -> int:
        result = await self._conn.execute(
            sa.select(sa.func.count())
            .select_from(orders)
            .where(
                orders.c.provider_id == provider_id,
                orders.c.status.in_([status.value for status in ACTIVE_STATUSES]),
            )
        )
        return int(result.scalar_one())

    async def schedules(self, user_id: int, limit: int) -> list[tuple[Order, bool]]:
        """The customer's drip-feeds and Subscriptions-type orders, archived or not, newest first (True: the latter)."""
        per_post = services.c.type == ServiceType.SUBSCRIPTIONS.value
        arms = [
            (
                sa.select(*columns, services.c.type.label("service_type"))
                .join(services, services.c.id == table.c.service_id)
                .where(table.c.user_id == user_id, sa.or_(table.c.runs.is_not(None), per_post)),
                table.c.id,
            )
            for table, columns in _ORDER_TABLES
        ]
        rows = await self._conn.execute(keyset_union(arms, before=None, after=None, limit=limit))
        found = []
        for row in rows:
            values = row._asdict()
            service_type = values.pop("service_type")
            found.append((_order_of(values), service_type == ServiceType.SUBSCRIPTIONS.value))
        return found

    async def of_customer_page(
        self, user_id: int, filters: OrderFilter, *, before: int | None, after: int | None, limit: int
    ) -> list[Order]:
        """One page of a customer's orders, archived or not, from a cursor along the (user_id, id) indexes.

        A link is matched exactly, through the (user_id, link, status) index: its few
        orders are then sorted by ``id + 0``, an expression no index offers, or the
        planner would walk every order of the customer by id looking for the link.
        """
        arms = []
        for table, columns in _ORDER_TABLES:
            query = sa.select(*columns).where(table.c.user_id == user_id)
            order_key: Any = table.c.id
            if filters.order_id is not None:
                query = query.where(table.c.id == filters.order_id)
            if filters.link is not None:
                query = query.where(table.c.link == filters.link)
                order_key = table.c.id + 0
            if filters.status is not None:
                query = query.where(table.c.status == filters.status)
            if filters.service_id is not None:
                query = query.where(table.c.service_id == filters.service_id)
            if filters.drip_feeds:
                query = query.where(table.c.runs.is_not(None))
            if filters.subscriptions:
                query = query.where(table.c.service_id.in_(_SUBSCRIPTION_SERVICES))
            arms.append((query, order_key))
        rows = await self._conn.execute(keyset_union(arms, before=before, after=after, limit=limit))
        return [_order(row) for row in rows]

    async def recent_completions(self, limit: int) -> list[tuple[int, datetime, datetime]]:
        """``(service id, created, finished)`` of the latest Completed single orders, archived or not
        (``orders`` on its (status, id) index; the archive, all finished, backwards on its primary key)."""
        arms = [
            (
                sa.select(table.c.id, table.c.service_id, table.c.created_at, table.c.finished_at).where(
                    table.c.status == OrderStatus.COMPLETED.value,
                    table.c.runs.is_(None),
                    table.c.finished_at.is_not(None),
                ),
                table.c.id,
            )
            for table, _ in _ORDER_TABLES
        ]
        rows = await self._conn.execute(keyset_union(arms, before=None, after=None, limit=limit))
        return [(int(row.service_id), row.created_at, row.finished_at) for row in rows]

    async def search_page(
        self, search: OrderSearch, *, before: int | None, after: int | None, limit: int
    ) -> list[tuple[Order, str]]:
        """One page of everyone's orders for the operator, archived or not, each with its customer's username.

        The page is cut first and its (at most ``limit``) orders joined to their customers after:
        joined before the cut, a search the planner expects thousands of orders for was answered
        with a hash join over a scan of every customer (``benchmarks/RESULTS.md``, "The operator's
        search at 10,000,000 orders").
        """
        arms = [(self._searched(table, columns, search), table.c.id) for table, columns in _ORDER_TABLES]
        page = keyset_union(arms, before=before, after=after, limit=limit).subquery()
        nearest_first = page.c.id.asc() if after is not None else page.c.id.desc()
        named = sa.select(page, users.c.username).join(users, users.c.id == page.c.user_id).order_by(nearest_first)
        result = []
        for row in await self._conn.execute(named):
            values = row._asdict()
            username = values.pop("username")
            values["status"] = OrderStatus(values["status"])
            result.append((Order(**values), username))
        return result

    def _searched(self, table: sa.Table, columns: list[Any], search: OrderSearch) -> sa.Select[Any]:
        """``search`` over one of the two order tables."""
        query = sa.select(*columns)
        if search.order_id is not None:
            query = query.where(table.c.id == search.order_id)
        if search.link:
            query = query.where(*link_contains(self._conn.dialect.name, search.link, table, common=search.link_common))
        if search.upstream_id is not None:
            query = query.where(table.c.provider_order_id == search.upstream_id)
            if search.provider_id is None:
                query = query.where(table.c.provider_id.in_(sa.select(providers.c.id)))
        if search.status is not None:
            query = query.where(table.c.status == search.status)
        if search.user_id is not None:
            query = query.where(table.c.user_id == search.user_id)
        if search.service_id is not None:
            query = query.where(table.c.service_id == search.service_id)
        if search.provider_id is not None:
            query = query.where(table.c.provider_id == search.provider_id)
        return query

    async def listing(self, *, user_id: int | None, status: str | None, limit: int) -> list[tuple[Order, str]]:
        """Newest first, archived or not, each with its customer's username (``smmpanel order list``)."""
        return await self.search_page(OrderSearch(user_id=user_id, status=status), before=None, after=None, limit=limit)
