"""The display currencies the operator offers, and each customer's choice among them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import currencies, users
from smmpanel.domain.currencies import DisplayCurrency, format_rate


def _currency(row: Any) -> DisplayCurrency:
    return DisplayCurrency(row.code, row.symbol, int(row.decimals), Decimal(row.rate), bool(row.is_default))


class Currencies:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def all(self) -> list[DisplayCurrency]:
        """Every display currency, alphabetically: a handful of rows."""
        rows = await self._conn.execute(sa.select(currencies).order_by(currencies.c.code))
        return [_currency(row) for row in rows]

    async def get(self, code: str) -> DisplayCurrency | None:
        row = (await self._conn.execute(sa.select(currencies).where(currencies.c.code == code))).first()
        return _currency(row) if row else None

    async def add(self, currency: DisplayCurrency) -> None:
        await self._conn.execute(
            currencies.insert().values(
                code=currency.code,
                symbol=currency.symbol,
                decimals=currency.decimals,
                rate=format_rate(currency.rate),
                is_default=False,
            )
        )

    async def update(self, currency: DisplayCurrency) -> None:
        await self._conn.execute(
            currencies.update()
            .where(currencies.c.code == currency.code)
            .values(symbol=currency.symbol, decimals=currency.decimals, rate=format_rate(currency.rate))
        )

    async def remove(self, code: str) -> None:
        await self._conn.execute(currencies.delete().where(currencies.c.code == code))

    async def set_default(self, code: str | None) -> None:
        """Make ``code`` the one default (None: the panel's own currency is)."""
        await self._conn.execute(currencies.update().values(is_default=currencies.c.code == code if code else False))

    async def choose_for_user(self, user_id: int, code: str | None) -> None:
        await self._conn.execute(users.update().where(users.c.id == user_id).values(display_currency=code))
