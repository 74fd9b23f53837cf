"""Repositories: every SQL statement of the panel, grouped by the record it serves.

Each repository works inside the transaction of the unit of work that made it;
none commits. Lookups that serve API calls are single statements on an index,
and list lookups take all ids at once: never a query per id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.admin_api_repositories import AdminApi
from smmpanel.db.affiliate_repositories import Affiliates
from smmpanel.db.audit_repository import AuditLog
from smmpanel.db.breakdown_repositories import Breakdowns
from smmpanel.db.catalog_repositories import Categories, CustomerRates
from smmpanel.db.catalog_upkeep_repositories import CatalogUpkeep
from smmpanel.db.count_repositories import OrderCounts
from smmpanel.db.coupon_repositories import Coupons
from smmpanel.db.currency_repositories import Currencies
from smmpanel.db.desk_repositories import Desk
from smmpanel.db.dispatch_repositories import Dispatch
from smmpanel.db.export_repositories import Exports
from smmpanel.db.id_lists import ids_in, ids_listed, is_postgres
from smmpanel.db.invites_repository import Invites
from smmpanel.db.keyset import keyset, keyset_union
from smmpanel.db.language_repository import Languages
from smmpanel.db.link_search import link_contains
from smmpanel.db.notify_repositories import NotifyRepositories
from smmpanel.db.order_archive import OrderArchive, archived
from smmpanel.db.order_charges import OrderCharges
from smmpanel.db.payment_repositories import Gateways, PaymentEvents, Payments
from smmpanel.db.provider_repositories import Providers, ServiceLinks
from smmpanel.db.report_repositories import Reports
from smmpanel.db.session_repositories import WebSessions
from smmpanel.db.settings_repository import PanelSettings
from smmpanel.db.tables import categories, ledger_entries, orders, orders_archive, providers, refills, services, users
from smmpanel.db.ticket_repositories import Tickets
from smmpanel.db.two_factor_repository import TwoFactor
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.domain.orders import ACTIVE_STATUSES, Order, OrderStatus
from smmpanel.domain.refills import RefillStatus
from smmpanel.domain.roles import is_staff, may
from smmpanel.money import Units


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    username: str
    balance: Units
    disabled: bool
    created_at: datetime
    role: str = "customer"
    discount: Units = 0
    password_hash: str | None = None
    display_currency: str | None = None
    """The display currency this customer picked (``smmpanel.domain.currencies``); None: the panel's default."""

    def __repr__(self) -> str:  # the password hash stays out of logs and tracebacks
        return f"Customer(id={self.id}, username={self.username!r}, role={self.role!r})"

    @property
    def is_admin(self) -> bool:
        """A member of staff (any role of ``domain.roles.STAFF_ROLES``): the admin dashboard is theirs."""
        return is_staff(self.role)

    def may(self, permission: str) -> bool:
        return may(self.role, permission)


@dataclass(frozen=True, slots=True)
class Refill:
    id: int
    order_id: int
    user_id: int
    status: RefillStatus
    created_at: datetime
    reason: str | None = None
    """Why the operator rejected it, in words for the customer; None otherwise."""


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    user_id: int
    kind: str
    amount: Units
    balance_after: Units
    order_id: int | None
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerMismatch:
    username: str
    balance: Units
    ledger_sum: Units


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


def _customer(row: Any) -> Customer:
    return Customer(
        row.id,
        row.username,
        row.balance,
        row.disabled,
        row.created_at,
        row.role,
        row.discount,
        row.password_hash,
        row.display_currency,
    )


def _service(row: Any) -> Service:
    return Service(
        id=row.id,
        name=row.name,
        category=row.category,
        type=ServiceType(row.type),
        rate=row.rate,
        min=row.min,
        max=row.max,
        refill=row.refill,
        cancel=row.cancel,
        description=row.description,
        enabled=row.enabled,
        refill_days=row.refill_days,
        deny_duplicate_link=row.deny_duplicate_link,
        position=row.position,
        price_locked=row.price_locked,
        hidden=bool(row.hidden),
    )


_IN_HIDDEN_CATEGORY = sa.exists().where(categories.c.name == services.c.category, categories.c.hidden.is_(True))
_CATEGORY_HIDDEN = _IN_HIDDEN_CATEGORY.label("hidden")
"""Every read of a service carries whether its category is hidden, so the catalog cache holds it too."""


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


# The statements of the API's hot paths (balance, status, add), built once: building a statement
# costs more CPU than SQLite takes to run it (benchmarks/RESULTS.md, "API v2").
_LOCK_USER = sa.select(users.c.id).where(users.c.id == sa.bindparam("user_id")).with_for_update()
_BALANCE = sa.select(users.c.balance).where(users.c.id == sa.bindparam("user_id"))
_CHANGE_BALANCE = (
    users.update()
    .where(users.c.id == sa.bindparam("user_id"), users.c.balance + sa.bindparam("amount") >= 0)
    .values(balance=users.c.balance + sa.bindparam("amount"))
    .returning(users.c.balance)
)
_APPEND_ENTRY = ledger_entries.insert()
_UPDATE_ORDER = orders.update().where(orders.c.id == sa.bindparam("order_id"))
_ADD_ORDER = orders.insert().returning(orders.c.id)
_SUBSCRIPTION_SERVICES = sa.select(services.c.id).where(services.c.type == ServiceType.SUBSCRIPTIONS.value)

_ARCHIVED_COLUMNS = archived(_ORDER_COLUMNS)
_ORDER_TABLES = ((orders, _ORDER_COLUMNS), (orders_archive, _ARCHIVED_COLUMNS))
"""Each table an order may be in, with its columns: the lists read both in one statement."""
_ANYWHERE = sa.union_all(sa.select(*_ORDER_COLUMNS), sa.select(*_ARCHIVED_COLUMNS)).subquery("anywhere")
"""Both tables as one: an order not found in ``orders`` is looked for again in both, in one
statement (one snapshot), so one that moves between the two reads is still found."""

_ORDERS_OF_CUSTOMER = {
    (postgres, archive): sa.select(*columns).where(
        source.c.user_id == sa.bindparam("user_id"), ids_listed(source.c.id, "order_ids", postgres=postgres)
    )
    for postgres in (False, True)
    for archive, source, columns in ((False, orders, _ORDER_COLUMNS), (True, _ANYWHERE, list(_ANYWHERE.c)))
}
"""The customer's orders among many ids, one statement per back end, then for the ids not found
one of both tables (``smmpanel.db.id_lists``)."""


def _order(row: Any) -> Order:
    return _order_of(row._asdict())


def _order_of(values: dict[str, Any]) -> Order:
    values["status"] = OrderStatus(values["status"])
    return Order(**values)


def _refill(row: Any) -> Refill:
    return Refill(row.id, row.order_id, row.user_id, RefillStatus(row.status), row.created_at, row.reason)


class Users:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def by_key_hash(self, key_hash: str) -> Customer | None:
        row = (await self._conn.execute(sa.select(users).where(users.c.api_key_hash == key_hash))).first()
        return _customer(row) if row else None

    async def by_username(self, username: str) -> Customer | None:
        """Whatever the case of ``username``: on the unique index of ``lower(username)``."""
        query = sa.select(users).where(sa.func.lower(users.c.username) == username.lower())
        row = (await self._conn.execute(query)).first()
        return _customer(row) if row else None

    async def all(self) -> list[Customer]:
        rows = await self._conn.execute(sa.select(users).order_by(users.c.id))
        return [_customer(row) for row in rows]

    async def count(self) -> int:
        return int((await self._conn.execute(sa.select(sa.func.count()).select_from(users))).scalar_one())

    async def add(
        self, username: str, key_hash: str, now: datetime, *, role: str = "customer", password_hash: str | None = None
    ) -> int:
        result = await self._conn.execute(
            users.insert()
            .values(
                username=username,
                api_key_hash=key_hash,
                balance=0,
                disabled=False,
                created_at=now,
                role=role,
                password_hash=password_hash,
            )
            .returning(users.c.id)
        )
        return int(result.scalar_one())

    async def by_id(self, user_id: int) -> Customer | None:
        row = (await self._conn.execute(sa.select(users).where(users.c.id == user_id))).first()
        return _customer(row) if row else None

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self._conn.execute(users.update().where(users.c.id == user_id).values(password_hash=password_hash))

    async def set_role(self, user_id: int, role: str) -> None:
        await self._conn.execute(users.update().where(users.c.id == user_id).values(role=role))

    async def set_key_hash(self, user_id: int, key_hash: str) -> None:
        await self._conn.execute(users.update().where(users.c.id == user_id).values(api_key_hash=key_hash))

    async def set_disabled(self, user_id: int, disabled: bool) -> None:
        await self._conn.execute(users.update().where(users.c.id == user_id).values(disabled=disabled))

    async def set_discount(self, user_id: int, discount: Units) -> None:
        await self._conn.execute(users.update().where(users.c.id == user_id).values(discount=discount))

    async def search_page(
        self, text: str | None, *, before: int | None, after: int | None, limit: int
    ) -> list[Customer]:
        """Users whose name contains ``text`` (any case), a keyset page on the primary key."""
        query = sa.select(users)
        if text:
            query = query.where(users.c.username.icontains(text, autoescape=True))
        rows = await self._conn.execute(keyset(query, users.c.id, before=before, after=after, limit=limit))
        return [_customer(row) for row in rows]

    async def with_roles(self, roles: Sequence[str]) -> list[Customer]:
        """Users holding one of ``roles`` (e.g. the members of staff: a handful), oldest first."""
        rows = await self._conn.execute(sa.select(users).where(users.c.role.in_(list(roles))).order_by(users.c.id))
        return [_customer(row) for row in rows]

    async def enabled_with_role(self, role: str) -> int:
        query = sa.select(sa.func.count()).select_from(users).where(users.c.role == role, users.c.disabled.is_(False))
        return int((await self._conn.execute(query)).scalar_one())

    async def lock(self, user_id: int) -> None:
        """Hold the customer's row until the transaction ends, serialising their orders."""
        await self._conn.execute(_LOCK_USER, {"user_id": user_id})

    async def balance(self, user_id: int) -> Units:
        return int((await self._conn.execute(_BALANCE, {"user_id": user_id})).scalar_one())

    async def change_balance(self, user_id: int, amount: Units) -> Units | None:
        """Add ``amount`` (negative to debit) unless that would take the balance below zero.

        One conditional statement, so that concurrent debits can never overdraw:
        the database row itself decides. Returns the new balance, or None if refused.
        """
        result = await self._conn.execute(_CHANGE_BALANCE, {"user_id": user_id, "amount": amount})
        balance = result.scalar_one_or_none()
        return None if balance is None else int(balance)


class Ledger:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(
        self,
        *,
        user_id: int,
        kind: str,
        amount: Units,
        balance_after: Units,
        order_id: int | None,
        note: str,
        now: datetime,
    ) -> None:
        entry = {"user_id": user_id, "kind": kind, "amount": amount, "balance_after": balance_after}
        await self._conn.execute(_APPEND_ENTRY, {**entry, "order_id": order_id, "note": note, "created_at": now})

    async def entries(self, user_id: int, limit: int) -> list[LedgerEntry]:
        rows = await self._conn.execute(
            sa.select(ledger_entries)
            .where(ledger_entries.c.user_id == user_id)
            .order_by(ledger_entries.c.id.desc())
            .limit(limit)
        )
        return [LedgerEntry(**row._asdict()) for row in rows]

    async def refunded_for_order(self, order_id: int) -> Units:
        total = await self._conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(ledger_entries.c.amount), 0)).where(
                ledger_entries.c.order_id == order_id, ledger_entries.c.kind == "refund"
            )
        )
        return int(total.scalar_one())

    async def of_customer_page(
        self, user_id: int, *, before: int | None, after: int | None, limit: int
    ) -> list[LedgerEntry]:
        """One page of a customer's ledger, from a cursor along the (user_id, id) index."""
        query = sa.select(ledger_entries).where(ledger_entries.c.user_id == user_id)
        rows = await self._conn.execute(keyset(query, ledger_entries.c.id, before=before, after=after, limit=limit))
        return [LedgerEntry(**row._asdict()) for row in rows]

    async def mismatches(self) -> list[LedgerMismatch]:
        """Customers whose balance is not the sum of their ledger entries."""
        sums = (
            sa.select(ledger_entries.c.user_id, sa.func.sum(ledger_entries.c.amount).label("total"))
            .group_by(ledger_entries.c.user_id)
            .subquery()
        )
        total = sa.func.coalesce(sums.c.total, 0)
        rows = await self._conn.execute(
            sa.select(users.c.username, users.c.balance, total.label("total"))
            .select_from(users.outerjoin(sums, sums.c.user_id == users.c.id))
            .where(users.c.balance != total)
            .order_by(users.c.username)
        )
        return [LedgerMismatch(row.username, int(row.balance), int(row.total)) for row in rows]


class Services:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, service_id: int) -> Service | None:
        query = sa.select(services, _CATEGORY_HIDDEN).where(services.c.id == service_id)
        row = (await self._conn.execute(query)).first()
        return _service(row) if row else None

    async def many(self, service_ids: Iterable[int]) -> dict[int, Service]:
        query = sa.select(services, _CATEGORY_HIDDEN).where(ids_in(self._conn, services.c.id, service_ids))
        return {row.id: _service(row) for row in await self._conn.execute(query)}

    async def listing(self, *, enabled_only: bool) -> list[Service]:
        """The catalog in the operator's order: categories by their position, then services by theirs.

        ``enabled_only`` keeps what customers are offered: enabled services outside hidden categories.
        """
        category_position = (
            sa.select(categories.c.position).where(categories.c.name == services.c.category).scalar_subquery()
        )
        query = sa.select(services, _CATEGORY_HIDDEN).order_by(
            sa.func.coalesce(category_position, 0), services.c.position, services.c.id
        )
        if enabled_only:
            query = query.where(services.c.enabled.is_(True), ~_IN_HIDDEN_CATEGORY)
        return [_service(row) for row in await self._conn.execute(query)]

    async def add(self, values: dict[str, Any], now: datetime) -> int:
        result = await self._conn.execute(
            services.insert().values(**values, created_at=now, updated_at=now).returning(services.c.id)
        )
        return int(result.scalar_one())

    async def update(self, service_id: int, values: dict[str, Any], now: datetime) -> None:
        await self._conn.execute(services.update().where(services.c.id == service_id).values(**values, updated_at=now))


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
            query = _ORDERS_OF_CUSTOMER[is_postgres(self._conn), archive]
            rows = await self._conn.execute(query, {"user_id": user_id, "order_ids": wanted})
            found.update((row.id, _order(row)) for row in rows)
            wanted = [order_id for order_id in wanted if order_id not in found]
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
        """The local order a provider's order id already belongs to, if any."""
        row = await self._conn.execute(
            sa.select(orders.c.id)
            .where(orders.c.provider_id == provider_id, orders.c.provider_order_id == provider_order_id)
            .limit(1)
        )
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
        """``(service id, created, finished)`` of the latest Completed single orders (the (status, id) index)."""
        rows = await self._conn.execute(
            sa.select(orders.c.service_id, orders.c.created_at, orders.c.finished_at)
            .where(
                orders.c.status == OrderStatus.COMPLETED.value,
                orders.c.runs.is_(None),
                orders.c.finished_at.is_not(None),
            )
            .order_by(orders.c.id.desc())
            .limit(limit)
        )
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
        """Newest first, each with its customer's username, for operators (the hot table only)."""
        query = (
            sa.select(*_ORDER_COLUMNS, users.c.username)
            .join(users, users.c.id == orders.c.user_id)
            .order_by(orders.c.id.desc())
            .limit(limit)
        )
        if user_id is not None:
            query = query.where(orders.c.user_id == user_id)
        if status is not None:
            query = query.where(orders.c.status == status)
        result = []
        for row in await self._conn.execute(query):
            values = row._asdict()
            username = values.pop("username")
            values["status"] = OrderStatus(values["status"])
            result.append((Order(**values), username))
        return result


class Refills:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, order_id: int, user_id: int, now: datetime, *, dispatch: str | None = None) -> int:
        result = await self._conn.execute(
            refills.insert()
            .values(
                order_id=order_id,
                user_id=user_id,
                dispatch=dispatch,
                status=RefillStatus.PENDING.value,
                created_at=now,
                updated_at=now,
            )
            .returning(refills.c.id)
        )
        return int(result.scalar_one())

    async def get(self, refill_id: int, *, for_update: bool = False) -> Refill | None:
        query = sa.select(refills).where(refills.c.id == refill_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return _refill(row) if row else None

    async def open_for_order(self, order_id: int) -> Refill | None:
        row = (
            await self._conn.execute(
                sa.select(refills)
                .where(
                    refills.c.order_id == order_id,
                    refills.c.status.in_([RefillStatus.PENDING.value, RefillStatus.IN_PROGRESS.value]),
                )
                .limit(1)
            )
        ).first()
        return _refill(row) if row else None

    async def of_customer(self, user_id: int, refill_ids: Sequence[int]) -> dict[int, Refill]:
        if not refill_ids:
            return {}
        rows = await self._conn.execute(
            sa.select(refills).where(refills.c.user_id == user_id, ids_in(self._conn, refills.c.id, refill_ids))
        )
        return {row.id: _refill(row) for row in rows}

    async def set_status(
        self, refill_id: int, status: RefillStatus, now: datetime, *, reason: str | None = None
    ) -> None:
        await self._conn.execute(
            refills.update().where(refills.c.id == refill_id).values(status=status.value, updated_at=now, reason=reason)
        )

    async def of_customer_page(
        self, user_id: int, *, before: int | None, after: int | None, limit: int
    ) -> list[tuple[Refill, str, int]]:
        """One page of a customer's refills, each with its order's link and service id."""
        query = (
            sa.select(refills, orders.c.link, orders.c.service_id)
            .join(orders, orders.c.id == refills.c.order_id)
            .where(refills.c.user_id == user_id)
        )
        rows = await self._conn.execute(keyset(query, refills.c.id, before=before, after=after, limit=limit))
        return [(_refill(row), row.link, int(row.service_id)) for row in rows]

    async def of_order(self, order_id: int) -> list[Refill]:
        rows = await self._conn.execute(
            sa.select(refills).where(refills.c.order_id == order_id).order_by(refills.c.id.desc())
        )
        return [_refill(row) for row in rows]

    async def page(
        self, *, status: str | None, before: int | None, after: int | None, limit: int
    ) -> list[tuple[Refill, str]]:
        """Everyone's refills for the operator, a keyset page on the primary key, with usernames."""
        query = sa.select(refills, users.c.username).join(users, users.c.id == refills.c.user_id)
        if status is not None:
            query = query.where(refills.c.status == status)
        rows = await self._conn.execute(keyset(query, refills.c.id, before=before, after=after, limit=limit))
        return [(_refill(row), row.username) for row in rows]

    async def listing(self, *, status: str | None, limit: int) -> list[tuple[Refill, str]]:
        query = (
            sa.select(refills, users.c.username)
            .join(users, users.c.id == refills.c.user_id)
            .order_by(refills.c.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(refills.c.status == status)
        return [(_refill(row), row.username) for row in await self._conn.execute(query)]


class Repositories:
    """All repositories over one connection, so that they share its transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.commits_each_statement = (
            conn.sync_connection is not None
            and conn.sync_connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        )
        """``Database.write_each`` on PostgreSQL: what a statement wrote stands, whatever follows it."""
        self.users = Users(conn)
        self.ledger = Ledger(conn)
        self.services = Services(conn)
        self.orders = Orders(conn)
        self.order_charges = OrderCharges(conn)
        self.refills = Refills(conn)
        self.providers = Providers(conn)
        self.links = ServiceLinks(conn)
        self.dispatch = Dispatch(conn)
        self.settings = PanelSettings(conn)
        self.invites = Invites(conn)
        self.tickets = Tickets(conn)
        self.rates = CustomerRates(conn)
        self.categories = Categories(conn)
        self.audit = AuditLog(conn)
        self.reports = Reports(conn)
        self.counts = OrderCounts(conn)
        self.admin_api = AdminApi(conn)
        self.two_factor = TwoFactor(conn)
        self.gateways, self.payments, self.payment_events = Gateways(conn), Payments(conn), PaymentEvents(conn)
        self.sessions = WebSessions(conn)
        self.notify = NotifyRepositories(conn)
        self.upkeep = CatalogUpkeep(conn)
        self.coupons = Coupons(conn)
        self.affiliates = Affiliates(conn)
        self.currencies = Currencies(conn)
        self.desk = Desk(conn)
        self.breakdowns = Breakdowns(conn)
        self.exports = Exports(conn)
        self.languages = Languages(conn)
