"""Referral codes, who referred whom, commissions and payouts.

A payout takes every pending commission of a referrer with one conditional update
(``take_pending``): the rows it changed are exactly the ones paid, so two payouts at
once can never pay the same commission twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import affiliate_commissions, affiliate_payouts, affiliates, users
from smmpanel.domain.affiliates import CommissionKind, CommissionStatus
from smmpanel.money import Units


@dataclass(frozen=True, slots=True)
class Affiliate:
    user_id: int
    code: str
    percent: Units | None
    """The operator's override of the panel's percent for this referrer; None: the panel's."""


@dataclass(frozen=True, slots=True)
class Commission:
    id: int
    referrer_id: int
    referred_id: int
    referrer: str
    referred: str
    payment_id: int
    kind: CommissionKind
    status: CommissionStatus
    deposit: Units
    percent: Units
    amount: Units
    payout_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Payout:
    id: int
    username: str
    amount: Units
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Referral:
    username: str
    referrer: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Totals:
    pending: Units
    paid: Units


_referred = users.alias("referred")


class Affiliates:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def of_user(self, user_id: int) -> Affiliate | None:
        row = (await self._conn.execute(sa.select(affiliates).where(affiliates.c.user_id == user_id))).first()
        return Affiliate(row.user_id, row.code, row.percent) if row else None

    async def by_code(self, code: str) -> Affiliate | None:
        row = (await self._conn.execute(sa.select(affiliates).where(affiliates.c.code == code))).first()
        return Affiliate(row.user_id, row.code, row.percent) if row else None

    async def add(self, user_id: int, code: str, now: datetime) -> None:
        await self._conn.execute(affiliates.insert().values(user_id=user_id, code=code, created_at=now))

    async def set_percent(self, user_id: int, percent: Units | None) -> None:
        await self._conn.execute(affiliates.update().where(affiliates.c.user_id == user_id).values(percent=percent))

    async def tie(self, referred_id: int, referrer_id: int) -> None:
        """Record who referred a customer; a customer already tied keeps their referrer."""
        await self._conn.execute(
            users.update()
            .where(users.c.id == referred_id, users.c.referrer_id.is_(None), users.c.id != referrer_id)
            .values(referrer_id=referrer_id)
        )

    async def referrer_of(self, user_id: int) -> int | None:
        value = (await self._conn.execute(sa.select(users.c.referrer_id).where(users.c.id == user_id))).scalar()
        return None if value is None else int(value)

    async def referral_count(self, referrer_id: int) -> int:
        query = sa.select(sa.func.count()).select_from(users).where(users.c.referrer_id == referrer_id)
        return int((await self._conn.execute(query)).scalar_one())

    async def referrals(self, limit: int) -> list[Referral]:
        """The newest referred customers and who referred them, for the operator."""
        referrer = users.alias("referrer")
        rows = await self._conn.execute(
            sa.select(users.c.username, referrer.c.username.label("referrer"), users.c.created_at)
            .select_from(users.join(referrer, referrer.c.id == users.c.referrer_id))
            .order_by(users.c.id.desc())
            .limit(limit)
        )
        return [Referral(**row._asdict()) for row in rows]

    # commissions

    async def add_commission(
        self,
        *,
        referrer_id: int,
        referred_id: int,
        payment_id: int,
        kind: CommissionKind,
        deposit: Units,
        percent: Units,
        amount: Units,
        now: datetime,
    ) -> None:
        """Fails on the unique (payment, kind) pair if this deposit already has this kind of commission."""
        await self._conn.execute(
            affiliate_commissions.insert().values(
                referrer_id=referrer_id,
                referred_id=referred_id,
                payment_id=payment_id,
                kind=kind.value,
                status=CommissionStatus.PENDING.value,
                deposit=deposit,
                percent=percent,
                amount=amount,
                created_at=now,
                updated_at=now,
            )
        )

    async def earned_on(self, payment_id: int) -> Commission | None:
        """The commission a deposit earned, if any."""
        rows = await self._commissions(
            affiliate_commissions.c.payment_id == payment_id,
            affiliate_commissions.c.kind == CommissionKind.EARNED.value,
            limit=1,
        )
        return rows[0] if rows else None

    async def reverse(self, commission_id: int, now: datetime) -> bool:
        """Take back a commission that is still pending; False if a payout took it first."""
        result = await self._conn.execute(
            affiliate_commissions.update()
            .where(
                affiliate_commissions.c.id == commission_id,
                affiliate_commissions.c.status == CommissionStatus.PENDING.value,
            )
            .values(status=CommissionStatus.REVERSED.value, updated_at=now)
        )
        return bool(result.rowcount)

    async def take_pending(self, referrer_id: int, now: datetime) -> list[tuple[int, Units]]:
        """Mark every pending commission of a referrer paid; the (id, amount) of each one taken."""
        result = await self._conn.execute(
            affiliate_commissions.update()
            .where(
                affiliate_commissions.c.referrer_id == referrer_id,
                affiliate_commissions.c.status == CommissionStatus.PENDING.value,
            )
            .values(status=CommissionStatus.PAID.value, updated_at=now)
            .returning(affiliate_commissions.c.id, affiliate_commissions.c.amount)
        )
        return [(int(row.id), int(row.amount)) for row in result]

    async def set_payout(self, commission_ids: Sequence[int], payout_id: int) -> None:
        await self._conn.execute(
            affiliate_commissions.update()
            .where(affiliate_commissions.c.id.in_(commission_ids))
            .values(payout_id=payout_id)
        )

    async def totals(self, referrer_id: int) -> Totals:
        """What is pending (negative when a clawback outweighs it) and what was paid out."""
        amount = affiliate_commissions.c.amount
        status = affiliate_commissions.c.status
        row = (
            await self._conn.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(sa.case((status == CommissionStatus.PENDING.value, amount))), 0),
                    sa.func.coalesce(sa.func.sum(sa.case((status == CommissionStatus.PAID.value, amount))), 0),
                ).where(affiliate_commissions.c.referrer_id == referrer_id)
            )
        ).one()
        return Totals(pending=int(row[0]), paid=int(row[1]))

    async def commissions(self, *, referrer_id: int | None, limit: int) -> list[Commission]:
        """The newest commissions, of one referrer or of all."""
        where = [] if referrer_id is None else [affiliate_commissions.c.referrer_id == referrer_id]
        return await self._commissions(*where, limit=limit)

    async def _commissions(self, *where: sa.ColumnElement[bool], limit: int) -> list[Commission]:
        referrer = users.alias("referrer")
        rows = await self._conn.execute(
            sa.select(
                affiliate_commissions.c.id,
                affiliate_commissions.c.referrer_id,
                affiliate_commissions.c.referred_id,
                referrer.c.username.label("referrer"),
                _referred.c.username.label("referred"),
                affiliate_commissions.c.payment_id,
                affiliate_commissions.c.kind,
                affiliate_commissions.c.status,
                affiliate_commissions.c.deposit,
                affiliate_commissions.c.percent,
                affiliate_commissions.c.amount,
                affiliate_commissions.c.payout_id,
                affiliate_commissions.c.created_at,
            )
            .select_from(
                affiliate_commissions.join(referrer, referrer.c.id == affiliate_commissions.c.referrer_id).join(
                    _referred, _referred.c.id == affiliate_commissions.c.referred_id
                )
            )
            .where(*where)
            .order_by(affiliate_commissions.c.id.desc())
            .limit(limit)
        )
        commissions = []
        for row in rows:
            values = row._asdict()
            values["kind"] = CommissionKind(values["kind"])
            values["status"] = CommissionStatus(values["status"])
            commissions.append(Commission(**values))
        return commissions

    # payouts

    async def add_payout(self, user_id: int, amount: Units, now: datetime) -> int:
        result = await self._conn.execute(
            affiliate_payouts.insert()
            .values(user_id=user_id, amount=amount, created_at=now)
            .returning(affiliate_payouts.c.id)
        )
        return int(result.scalar_one())

    async def payouts(self, limit: int) -> list[Payout]:
        rows = await self._conn.execute(
            sa.select(
                affiliate_payouts.c.id, users.c.username, affiliate_payouts.c.amount, affiliate_payouts.c.created_at
            )
            .select_from(affiliate_payouts.join(users))
            .order_by(affiliate_payouts.c.id.desc())
            .limit(limit)
        )
        return [Payout(**row._asdict()) for row in rows]
