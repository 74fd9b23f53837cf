"""Coupons and their redemptions.

Two statements carry the guarantees: ``take_use`` counts a use only while the coupon is
still redeemable (a conditional update, decided by the row itself), and the unique
(coupon, customer) pair of ``coupon_redemptions`` lets a customer redeem a coupon once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import coupon_redemptions, coupons, users
from smmpanel.domain.coupons import Coupon, CouponKind
from smmpanel.money import Units

WAITING = "waiting"
"""A percent coupon redeemed, waiting for the customer's next completed deposit."""
APPLIED = "applied"
"""A percent coupon paid with a deposit."""
CREDITED = "credited"
"""A fixed-amount coupon, credited when redeemed."""


@dataclass(frozen=True, slots=True)
class WaitingCoupon:
    redemption_id: int
    code: str
    percent: Units


@dataclass(frozen=True, slots=True)
class PaidCoupon:
    code: str
    amount: Units


@dataclass(frozen=True, slots=True)
class Redemption:
    id: int
    code: str
    username: str
    status: str
    amount: Units
    payment_id: int | None
    created_at: datetime


def _coupon(row: Any) -> Coupon:
    values = row._asdict()
    values["kind"] = CouponKind(values["kind"])
    return Coupon(**values)


class Coupons:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(
        self, code: str, kind: CouponKind, value: Units, max_uses: int | None, expires_on: date | None, now: datetime
    ) -> int:
        result = await self._conn.execute(
            coupons.insert()
            .values(code=code, kind=kind.value, value=value, max_uses=max_uses, expires_on=expires_on, created_at=now)
            .returning(coupons.c.id)
        )
        return int(result.scalar_one())

    async def by_code(self, code: str) -> Coupon | None:
        row = (await self._conn.execute(sa.select(coupons).where(coupons.c.code == code))).first()
        return _coupon(row) if row else None

    async def listing(self, limit: int) -> list[Coupon]:
        rows = await self._conn.execute(sa.select(coupons).order_by(coupons.c.id.desc()).limit(limit))
        return [_coupon(row) for row in rows]

    async def set_disabled(self, coupon_id: int) -> None:
        await self._conn.execute(coupons.update().where(coupons.c.id == coupon_id).values(disabled=True))

    async def take_use(self, coupon_id: int, today: date) -> bool:
        """Count one use, unless the coupon is used up, disabled or expired by now; True when counted.

        Concurrent callers queue on the coupon's row and each sees the count the last one left.
        """
        result = await self._conn.execute(
            coupons.update()
            .where(
                coupons.c.id == coupon_id,
                coupons.c.disabled == sa.false(),
                sa.or_(coupons.c.max_uses.is_(None), coupons.c.uses < coupons.c.max_uses),
                sa.or_(coupons.c.expires_on.is_(None), coupons.c.expires_on >= today),
            )
            .values(uses=coupons.c.uses + 1)
        )
        return bool(result.rowcount)

    async def redeemed_by(self, coupon_id: int, user_id: int) -> bool:
        query = sa.select(coupon_redemptions.c.id).where(
            coupon_redemptions.c.coupon_id == coupon_id, coupon_redemptions.c.user_id == user_id
        )
        return (await self._conn.execute(query)).first() is not None

    async def add_redemption(self, coupon_id: int, user_id: int, status: str, amount: Units, now: datetime) -> None:
        """Fails on the unique (coupon, customer) pair when this customer has redeemed it already."""
        await self._conn.execute(
            coupon_redemptions.insert().values(
                coupon_id=coupon_id,
                user_id=user_id,
                status=status,
                amount=amount,
                created_at=now,
                applied_at=now if status == CREDITED else None,
            )
        )

    async def waiting_of(self, user_id: int) -> WaitingCoupon | None:
        """The percent coupon waiting for this customer's next deposit, if any (at most one can)."""
        row = (
            await self._conn.execute(
                sa.select(coupon_redemptions.c.id, coupons.c.code, coupons.c.value)
                .select_from(coupon_redemptions.join(coupons))
                .where(coupon_redemptions.c.user_id == user_id, coupon_redemptions.c.status == WAITING)
            )
        ).first()
        return WaitingCoupon(row.id, row.code, row.value) if row else None

    async def apply(self, redemption_id: int, amount: Units, payment_id: int, now: datetime) -> bool:
        """Mark a waiting coupon paid with a deposit; False if it was no longer waiting."""
        result = await self._conn.execute(
            coupon_redemptions.update()
            .where(coupon_redemptions.c.id == redemption_id, coupon_redemptions.c.status == WAITING)
            .values(status=APPLIED, amount=amount, payment_id=payment_id, applied_at=now)
        )
        return bool(result.rowcount)

    async def paid_on(self, payment_id: int) -> PaidCoupon | None:
        """The percent coupon a deposit paid, if any."""
        row = (
            await self._conn.execute(
                sa.select(coupons.c.code, coupon_redemptions.c.amount)
                .select_from(coupon_redemptions.join(coupons))
                .where(coupon_redemptions.c.payment_id == payment_id, coupon_redemptions.c.status == APPLIED)
            )
        ).first()
        return PaidCoupon(row.code, row.amount) if row else None

    async def redemptions(self, limit: int) -> list[Redemption]:
        """The newest redemptions of every coupon, for the operator."""
        rows = await self._conn.execute(
            sa.select(
                coupon_redemptions.c.id,
                coupons.c.code,
                users.c.username,
                coupon_redemptions.c.status,
                coupon_redemptions.c.amount,
                coupon_redemptions.c.payment_id,
                coupon_redemptions.c.created_at,
            )
            .select_from(coupon_redemptions.join(coupons).join(users, users.c.id == coupon_redemptions.c.user_id))
            .order_by(coupon_redemptions.c.id.desc())
            .limit(limit)
        )
        return [Redemption(**row._asdict()) for row in rows]
