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
from smmpanel.db.id_lists import ids_in
from smmpanel.db.invites_repository import Invites
from smmpanel.db.keyset import keyset
from smmpanel.db.language_repository import Languages
from smmpanel.db.notify_repositories import NotifyRepositories
from smmpanel.db.order_charges import OrderCharges
from smmpanel.db.order_repositories import Orders
from smmpanel.db.payment_repositories import Gateways, PaymentEvents, Payments
from smmpanel.db.provider_repositories import Providers, ServiceLinks
from smmpanel.db.report_repositories import Reports
from smmpanel.db.session_repositories import WebSessions
from smmpanel.db.settings_repository import PanelSettings
from smmpanel.db.tables import categories, ledger_entries, orders, orders_archive, refills, services, users
from smmpanel.db.ticket_repositories import Tickets
from smmpanel.db.two_factor_repository import TwoFactor
from smmpanel.domain.catalog import Service, ServiceType
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
        rows = await self._conn.execute(sa.select(refills).where(ids_in(self._conn, refills.c.id, refill_ids)))
        return {row.id: _refill(row) for row in rows if row.user_id == user_id}

    async def set_status(
        self, refill_id: int, status: RefillStatus, now: datetime, *, reason: str | None = None
    ) -> None:
        await self._conn.execute(
            refills.update().where(refills.c.id == refill_id).values(status=status.value, updated_at=now, reason=reason)
        )

    async def of_customer_page(
        self, user_id: int, *, before: int | None, after: int | None, limit: int
    ) -> list[tuple[Refill, str, int]]:
        """One page of a customer's refills, each with its order's link and service id, archived or not.

        The order is in one of the two tables: one primary-key probe of each per refill of the page.
        """
        query = (
            sa.select(
                refills,
                sa.func.coalesce(orders.c.link, orders_archive.c.link).label("link"),
                sa.func.coalesce(orders.c.service_id, orders_archive.c.service_id).label("service_id"),
            )
            .select_from(
                refills.outerjoin(orders, orders.c.id == refills.c.order_id).outerjoin(
                    orders_archive, orders_archive.c.id == refills.c.order_id
                )
            )
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

    def __init__(self, conn: AsyncConnection, *, commits_each_statement: bool = False) -> None:
        self.commits_each_statement = commits_each_statement
        """``Database.write_each`` on PostgreSQL: what a statement wrote stands, whatever follows it.
        The unit of work says so: it chose the connection."""
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
