"""Payment gateways, payments and the events of their confirmations.

The one statement that decides whether money moves is ``Payments.complete``: a conditional
update on the payment's status, so that of any number of concurrent confirmations exactly
one finds it still pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.keyset import keyset
from smmpanel.db.tables import payment_events, payment_gateways, payments, users
from smmpanel.domain.payments import PaymentStatus, PendingFacts
from smmpanel.money import Units

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class GatewayRecord:
    """A gateway as the operator configured it; ``config`` holds the kind's options and secrets."""

    id: int
    name: str
    kind: str
    display_name: str
    enabled: bool
    min_amount: Units
    max_amount: Units | None
    fee_percent: Units
    bonus_percent: Units
    bonus_from: Units
    instructions: str
    config: JsonObject
    position: int
    created_at: datetime
    updated_at: datetime

    def __repr__(self) -> str:  # the secrets in config stay out of logs and tracebacks
        return f"GatewayRecord(id={self.id}, name={self.name!r}, kind={self.kind!r})"


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    user_id: int
    username: str
    gateway_id: int
    gateway: str
    amount: Units
    fee: Units
    amount_confirmed: Units | None
    bonus: Units
    currency: str
    reference: str | None
    status: PaymentStatus
    note: str
    confirmation: JsonObject | None
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    expires_at: datetime | None
    checkout: JsonObject | None = None
    """``redirect_url``, ``form_fields`` and ``client`` of the gateway's ``Started``."""

    @property
    def amount_due(self) -> Units:
        """What the gateway is asked to take: the amount plus the gateway's fee."""
        return self.amount + self.fee

    def facts(self) -> PendingFacts:
        return PendingFacts(self.status, self.amount_due, self.currency, self.expires_at)


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    id: int
    gateway_id: int | None
    payment_id: int | None
    outcome: str
    reason: str
    reference: str | None
    amount: Units | None
    raw: JsonObject | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentSearch:
    """What an operator narrowed the payments list to; None means any."""

    status: PaymentStatus | None = None
    gateway_id: int | None = None
    user_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    kinds: tuple[str, ...] | None = None
    """Only payments through gateways of these kinds (the review list: those an operator approves)."""


@dataclass(frozen=True, slots=True)
class PaymentTotals:
    count: int
    completed: int
    credited: Units
    """The sum of the completed payments' amounts (bonuses apart)."""


_PAYMENT_COLUMNS = [
    payments.c.id,
    payments.c.user_id,
    users.c.username,
    payments.c.gateway_id,
    payment_gateways.c.name.label("gateway"),
    payments.c.amount,
    payments.c.fee,
    payments.c.amount_confirmed,
    payments.c.bonus,
    payments.c.currency,
    payments.c.reference,
    payments.c.status,
    payments.c.note,
    payments.c.confirmation,
    payments.c.created_at,
    payments.c.updated_at,
    payments.c.confirmed_at,
    payments.c.expires_at,
    payments.c.checkout,
]


def _select_payments() -> sa.Select[Any]:
    return (
        sa.select(*_PAYMENT_COLUMNS)
        .join(users, users.c.id == payments.c.user_id)
        .join(payment_gateways, payment_gateways.c.id == payments.c.gateway_id)
    )


def _payment(row: Any) -> Payment:
    values = row._asdict()
    values["status"] = PaymentStatus(values["status"])
    return Payment(**values)


def _where(query: sa.Select[Any], search: PaymentSearch) -> sa.Select[Any]:
    if search.status is not None:
        query = query.where(payments.c.status == search.status.value)
    if search.gateway_id is not None:
        query = query.where(payments.c.gateway_id == search.gateway_id)
    if search.user_id is not None:
        query = query.where(payments.c.user_id == search.user_id)
    if search.since is not None:
        query = query.where(payments.c.created_at >= search.since)
    if search.until is not None:
        query = query.where(payments.c.created_at < search.until)
    if search.kinds is not None:
        query = query.where(payment_gateways.c.kind.in_(search.kinds))
    return query


class Gateways:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, values: dict[str, Any], now: datetime) -> int:
        result = await self._conn.execute(
            payment_gateways.insert().values(**values, created_at=now, updated_at=now).returning(payment_gateways.c.id)
        )
        return int(result.scalar_one())

    async def update(self, gateway_id: int, values: dict[str, Any], now: datetime) -> None:
        await self._conn.execute(
            payment_gateways.update().where(payment_gateways.c.id == gateway_id).values(**values, updated_at=now)
        )

    async def by_name(self, name: str) -> GatewayRecord | None:
        row = (await self._conn.execute(sa.select(payment_gateways).where(payment_gateways.c.name == name))).first()
        return None if row is None else GatewayRecord(**row._asdict())

    async def get(self, gateway_id: int) -> GatewayRecord | None:
        row = (await self._conn.execute(sa.select(payment_gateways).where(payment_gateways.c.id == gateway_id))).first()
        return None if row is None else GatewayRecord(**row._asdict())

    async def listing(self, *, enabled_only: bool) -> list[GatewayRecord]:
        query = sa.select(payment_gateways).order_by(payment_gateways.c.position, payment_gateways.c.id)
        if enabled_only:
            query = query.where(payment_gateways.c.enabled)
        return [GatewayRecord(**row._asdict()) for row in await self._conn.execute(query)]


class Payments:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, values: dict[str, Any], now: datetime) -> int:
        result = await self._conn.execute(
            payments.insert().values(**values, created_at=now, updated_at=now).returning(payments.c.id)
        )
        return int(result.scalar_one())

    async def get(self, payment_id: int) -> Payment | None:
        row = (await self._conn.execute(_select_payments().where(payments.c.id == payment_id))).first()
        return None if row is None else _payment(row)

    async def by_reference(self, gateway_id: int, reference: str) -> Payment | None:
        query = _select_payments().where(payments.c.gateway_id == gateway_id, payments.c.reference == reference)
        row = (await self._conn.execute(query)).first()
        return None if row is None else _payment(row)

    async def set_reference(
        self, payment_id: int, reference: str, now: datetime, checkout: JsonObject | None = None
    ) -> None:
        values = {"reference": reference, "updated_at": now, "checkout": checkout}
        await self._conn.execute(payments.update().where(payments.c.id == payment_id).values(**values))

    async def complete(self, payment_id: int, amount_confirmed: Units, confirmation: JsonObject, now: datetime) -> bool:
        """``pending → completed``, only if still pending: True for the one caller that moved it."""
        result = await self._conn.execute(
            payments.update()
            .where(payments.c.id == payment_id, payments.c.status == PaymentStatus.PENDING.value)
            .values(
                status=PaymentStatus.COMPLETED.value,
                amount_confirmed=amount_confirmed,
                confirmation=confirmation,
                confirmed_at=now,
                updated_at=now,
            )
        )
        return result.rowcount == 1

    async def move(
        self, payment_id: int, source: PaymentStatus, target: PaymentStatus, note: str | None, now: datetime
    ) -> bool:
        """``source → target`` only if the payment is still in ``source``; ``note`` replaces the note when given."""
        values: dict[str, Any] = {"status": target.value, "updated_at": now}
        if note is not None:
            values["note"] = note
        result = await self._conn.execute(
            payments.update().where(payments.c.id == payment_id, payments.c.status == source.value).values(**values)
        )
        return result.rowcount == 1

    async def set_bonus(self, payment_id: int, bonus: Units) -> None:
        await self._conn.execute(payments.update().where(payments.c.id == payment_id).values(bonus=bonus))

    async def search_page(
        self, search: PaymentSearch, *, before: int | None, after: int | None, limit: int
    ) -> list[Payment]:
        query = _where(_select_payments(), search)
        rows = await self._conn.execute(keyset(query, payments.c.id, before=before, after=after, limit=limit))
        return [_payment(row) for row in rows]

    async def totals(self, search: PaymentSearch) -> PaymentTotals:
        completed = payments.c.status == PaymentStatus.COMPLETED.value
        query = sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((completed, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((completed, payments.c.amount), else_=0)), 0),
        ).select_from(payments.join(payment_gateways, payment_gateways.c.id == payments.c.gateway_id))
        row = (await self._conn.execute(_where(query, search))).one()
        return PaymentTotals(int(row[0]), int(row[1]), int(row[2]))


class PaymentEvents:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(
        self,
        *,
        gateway_id: int | None,
        payment_id: int | None,
        outcome: str,
        reason: str,
        reference: str | None,
        amount: Units | None,
        raw: JsonObject | None,
        now: datetime,
    ) -> int:
        result = await self._conn.execute(
            payment_events.insert()
            .values(
                gateway_id=gateway_id,
                payment_id=payment_id,
                outcome=outcome,
                reason=reason,
                reference=None if reference is None else reference[:255],
                amount=amount,
                raw=raw,
                created_at=now,
            )
            .returning(payment_events.c.id)
        )
        return int(result.scalar_one())

    async def of_payment(self, payment_id: int) -> list[PaymentEvent]:
        query = sa.select(payment_events).where(payment_events.c.payment_id == payment_id).order_by(payment_events.c.id)
        return [PaymentEvent(**row._asdict()) for row in await self._conn.execute(query)]

    async def page(
        self, *, gateway_id: int | None, before: int | None, after: int | None, limit: int
    ) -> list[PaymentEvent]:
        """The newest events (of one gateway, or all): refused confirmations show here for the operator."""
        query = sa.select(payment_events)
        if gateway_id is not None:
            query = query.where(payment_events.c.gateway_id == gateway_id)
        rows = await self._conn.execute(keyset(query, payment_events.c.id, before=before, after=after, limit=limit))
        return [PaymentEvent(**row._asdict()) for row in rows]
