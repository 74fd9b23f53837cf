"""The admin API's records: its keys, the claims of pulled manual orders, and its listings.

A manual order (one nobody forwards: ``dispatch`` NULL) that a fulfilment client pulls
becomes ``dispatch = 'pulled'`` with ``pulled_by`` naming the key and ``next_attempt_at``
the end of its lease, the way the engine's own claims keep theirs. Claims are taken with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL (and under SQLite's write lock) in the same
statement's transaction that marks them, so two clients never receive the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.id_lists import ids_in
from smmpanel.db.order_archive import archived
from smmpanel.db.tables import (
    CANCEL_REQUEST_WHERE,
    admin_api_keys,
    ledger_entries,
    orders,
    orders_archive,
    refills,
    users,
)
from smmpanel.domain.ledger import EntryKind
from smmpanel.domain.orders import ACTIVE_STATUSES, Order, OrderStatus
from smmpanel.domain.refills import RefillStatus
from smmpanel.domain.roles import Role
from smmpanel.money import Units

PULLED = "pulled"
"""``orders.dispatch`` of a manual order that an admin API key has pulled."""


@dataclass(frozen=True, slots=True)
class AdminKey:
    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class OrderFilters:
    """What ``GET orders`` narrows everyone's orders to; empty or None means any."""

    ids: Sequence[int] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    statuses: Sequence[OrderStatus] = ()
    user_id: int | None = None
    service_ids: Sequence[int] = ()
    newest_first: bool = True
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of a listing and how many rows match in all."""

    rows: list[Any] = field(default_factory=list)
    count: int = 0


@dataclass(frozen=True, slots=True)
class Account:
    """A customer as the admin API lists them."""

    id: int
    username: str
    balance: Units
    disabled: bool
    role: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Topup:
    id: int
    username: str
    amount: Units
    balance_after: Units
    note: str
    created_at: datetime


# Every column an ``Order`` holds, by the dataclass's own field names (the columns' names).
_ORDER_COLUMNS = [orders.c[item.name] for item in fields(Order)]
_ORDER_TABLES = ((orders, _ORDER_COLUMNS), (orders_archive, archived(_ORDER_COLUMNS)))
"""The listings read both tables in one statement: archiving changes none of their answers."""


def _order(row: Any) -> tuple[Order, str]:
    values = row._asdict()
    username = str(values.pop("username"))
    values["status"] = OrderStatus(values["status"])
    return Order(**values), username


def _key(row: Any) -> AdminKey:
    return AdminKey(row.id, row.name, row.role, row.created_at, row.revoked_at)


def _waiting(now: datetime) -> Any:
    """Manual orders nobody holds: never pulled and Pending, or pulled by a claim that lapsed."""
    return sa.and_(
        orders.c.parent_id.is_(None),
        sa.or_(
            sa.and_(orders.c.dispatch.is_(None), orders.c.status == OrderStatus.PENDING.value),
            sa.and_(
                orders.c.dispatch == PULLED,
                orders.c.next_attempt_at < now,
                orders.c.status.in_([status.value for status in ACTIVE_STATUSES]),
            ),
        ),
    )


class AdminApi:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # --- keys ---------------------------------------------------------------------

    async def add_key(self, name: str, key_hash: str, role: str, now: datetime) -> int:
        result = await self._conn.execute(
            admin_api_keys.insert()
            .values(name=name, key_hash=key_hash, role=role, created_at=now)
            .returning(admin_api_keys.c.id)
        )
        return int(result.scalar_one())

    async def key_by_hash(self, key_hash: str) -> AdminKey | None:
        row = (await self._conn.execute(sa.select(admin_api_keys).where(admin_api_keys.c.key_hash == key_hash))).first()
        return _key(row) if row else None

    async def key_by_name(self, name: str) -> AdminKey | None:
        row = (await self._conn.execute(sa.select(admin_api_keys).where(admin_api_keys.c.name == name))).first()
        return _key(row) if row else None

    async def keys(self) -> list[AdminKey]:
        return [_key(row) for row in await self._conn.execute(sa.select(admin_api_keys).order_by(admin_api_keys.c.id))]

    async def revoke(self, key_id: int, now: datetime) -> None:
        await self._conn.execute(admin_api_keys.update().where(admin_api_keys.c.id == key_id).values(revoked_at=now))

    async def key_names(self, key_ids: Iterable[int]) -> dict[int, str]:
        wanted = set(key_ids)
        if not wanted:
            return {}
        rows = await self._conn.execute(
            sa.select(admin_api_keys.c.id, admin_api_keys.c.name).where(admin_api_keys.c.id.in_(wanted))
        )
        return {int(row.id): str(row.name) for row in rows}

    # --- pulled manual orders -----------------------------------------------------

    async def claim_manual_orders(
        self, service_ids: Sequence[int], limit: int, now: datetime, lease_until: datetime, key_id: int
    ) -> list[int]:
        """Take up to ``limit`` waiting manual orders (oldest first) for ``key_id`` until ``lease_until``."""
        query = sa.select(orders.c.id).where(_waiting(now))
        if service_ids:
            query = query.where(orders.c.service_id.in_(set(service_ids)))
        query = query.order_by(orders.c.id).limit(limit).with_for_update(skip_locked=True)
        ids = [int(i) for i in (await self._conn.execute(query)).scalars().all()]
        if ids:
            await self._conn.execute(
                orders.update()
                .where(ids_in(self._conn, orders.c.id, ids))
                .values(dispatch=PULLED, pulled_by=key_id, next_attempt_at=lease_until, updated_at=now)
            )
        return ids

    async def claims(self, order_ids: Iterable[int], now: datetime) -> dict[int, str]:
        """The name of the key holding each of ``order_ids`` under a live claim; others are absent."""
        wanted = set(order_ids)
        if not wanted:
            return {}
        rows = await self._conn.execute(
            sa.select(orders.c.id, admin_api_keys.c.name)
            .join(admin_api_keys, admin_api_keys.c.id == orders.c.pulled_by)
            .where(
                ids_in(self._conn, orders.c.id, wanted), orders.c.dispatch == PULLED, orders.c.next_attempt_at >= now
            )
            .where(orders.c.status.in_([status.value for status in ACTIVE_STATUSES]))
        )
        return {int(row.id): str(row.name) for row in rows}

    async def pulled_by(self, order_id: int) -> int | None:
        found = await self._conn.execute(sa.select(orders.c.pulled_by).where(orders.c.id == order_id))
        value = found.scalar_one_or_none()
        return None if value is None else int(value)

    # --- listings -----------------------------------------------------------------

    async def orders(self, filters: OrderFilters) -> Listing:
        """Everyone's orders, archived or not, filtered, a page by offset, each with its customer's username.

        Each table gives its first ``offset + limit`` matches in the page's order; merged, the page
        is cut from those, then joined to the customers. The count adds up both tables' counts.
        """
        counts: list[Any] = []
        arms: list[Any] = []
        for table, columns in _ORDER_TABLES:
            where = self._filtered(table, filters)
            counts.append(sa.select(sa.func.count()).select_from(table).where(*where).scalar_subquery())
            order_by = table.c.id.desc() if filters.newest_first else table.c.id.asc()
            arms.append(
                sa.select(*columns).where(*where).order_by(order_by).limit(filters.offset + filters.limit).subquery()
            )
        total = await self._conn.execute(sa.select(counts[0] + counts[1]))
        merged = sa.union_all(*(sa.select(arm) for arm in arms)).subquery()
        order_by = merged.c.id.desc() if filters.newest_first else merged.c.id.asc()
        page = sa.select(merged).order_by(order_by).limit(filters.limit).offset(filters.offset).subquery()
        order_by = page.c.id.desc() if filters.newest_first else page.c.id.asc()
        named = sa.select(page, users.c.username).join(users, users.c.id == page.c.user_id).order_by(order_by)
        return Listing([_order(row) for row in await self._conn.execute(named)], int(total.scalar_one()))

    def _filtered(self, table: sa.Table, filters: OrderFilters) -> list[Any]:
        """``filters`` as conditions on ``orders`` or its archive."""
        where: list[Any] = []
        if filters.ids:
            where.append(ids_in(self._conn, table.c.id, filters.ids))
        if filters.created_from is not None:
            where.append(table.c.created_at >= filters.created_from)
        if filters.created_to is not None:
            where.append(table.c.created_at <= filters.created_to)
        if filters.statuses:
            where.append(table.c.status.in_([status.value for status in filters.statuses]))
        if filters.user_id is not None:
            where.append(table.c.user_id == filters.user_id)
        if filters.service_ids:
            where.append(table.c.service_id.in_(set(filters.service_ids)))
        return where

    async def with_usernames(self, order_ids: Sequence[int]) -> list[tuple[Order, str]]:
        """The orders of ``order_ids``, archived or not, by id, each with its customer's username."""
        found = sa.union_all(
            *(sa.select(*columns).where(ids_in(self._conn, table.c.id, order_ids)) for table, columns in _ORDER_TABLES)
        ).subquery()
        rows = await self._conn.execute(
            sa.select(found, users.c.username).join(users, users.c.id == found.c.user_id).order_by(found.c.id)
        )
        return [_order(row) for row in rows]

    async def cancel_requests(self, limit: int) -> list[tuple[Order, str]]:
        """Unfinished manual orders whose customer asked to cancel: the fulfiller decides."""
        # The predicate of the partial index ``ix_orders_cancel_state_cancel_request``, word for word, so
        # both databases read the few open requests from it rather than scanning the orders.
        waiting = (
            sa.select(orders.c.id)
            .where(sa.text(CANCEL_REQUEST_WHERE), orders.c.cancel_state.is_(None))
            .order_by(orders.c.id)
            .limit(limit)
        )
        rows = await self._conn.execute(
            sa.select(*_ORDER_COLUMNS, users.c.username)
            .join(users, users.c.id == orders.c.user_id)
            .where(orders.c.id.in_(waiting.scalar_subquery()))
            .order_by(orders.c.id)
        )
        return [_order(row) for row in rows]

    async def claim_refills(self, limit: int, now: datetime) -> list[int]:
        """Pending refills nobody forwards, moved to In progress as they are handed out."""
        query = (
            sa.select(refills.c.id)
            .where(refills.c.dispatch.is_(None), refills.c.status == RefillStatus.PENDING.value)
            .order_by(refills.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = [int(i) for i in (await self._conn.execute(query)).scalars().all()]
        if ids:
            await self._conn.execute(
                refills.update()
                .where(ids_in(self._conn, refills.c.id, ids))
                .values(status=RefillStatus.IN_PROGRESS.value, updated_at=now)
            )
        return ids

    async def topups(self, user_id: int | None, limit: int, offset: int) -> Listing:
        """Top-up ledger entries, newest first, each with its customer's username."""
        where: list[Any] = [ledger_entries.c.kind == EntryKind.TOPUP.value]
        if user_id is not None:
            where.append(ledger_entries.c.user_id == user_id)
        total = await self._conn.execute(sa.select(sa.func.count()).select_from(ledger_entries).where(*where))
        rows = await self._conn.execute(
            sa.select(
                ledger_entries.c.id,
                users.c.username,
                ledger_entries.c.amount,
                ledger_entries.c.balance_after,
                ledger_entries.c.note,
                ledger_entries.c.created_at,
            )
            .join(users, users.c.id == ledger_entries.c.user_id)
            .where(*where)
            .order_by(ledger_entries.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return Listing([Topup(**row._asdict()) for row in rows], int(total.scalar_one()))

    async def customers(self, username: str | None, limit: int, offset: int) -> Listing:
        where: list[Any] = [users.c.username == username] if username else []
        total = await self._conn.execute(sa.select(sa.func.count()).select_from(users).where(*where))
        columns = [users.c[item.name] for item in fields(Account)]
        rows = await self._conn.execute(
            sa.select(*columns).where(*where).order_by(users.c.id).limit(limit).offset(offset)
        )
        return Listing([Account(**row._asdict()) for row in rows], int(total.scalar_one()))

    async def first_operator(self) -> int | None:
        """The oldest operator account: who an answer sent through the admin API is written by."""
        found = await self._conn.execute(
            sa.select(users.c.id).where(users.c.role == Role.OWNER.value).order_by(users.c.id).limit(1)
        )
        value = found.scalar_one_or_none()
        return None if value is None else int(value)
