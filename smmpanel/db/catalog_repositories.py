"""Customer prices (custom rates) and the order of categories: the catalog's operator-side records."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import categories, customer_rates, service_providers, users
from smmpanel.money import Units


@dataclass(frozen=True, slots=True)
class PriceTerms:
    """What decides one customer's price of one service, besides the service rate itself."""

    discount: Units
    custom_rate: Units | None
    forwarded: bool = False
    """Whether the service has a provider, so that its orders are forwarded. Not a price term,
    but every order needs it too, and it comes with them in the same statement."""


CUSTOM_RATE = (
    sa.select(customer_rates.c.rate)
    .where(
        customer_rates.c.user_id == sa.bindparam("user_id"), customer_rates.c.service_id == sa.bindparam("service_id")
    )
    .scalar_subquery()
)
FORWARDED = sa.exists().where(service_providers.c.service_id == sa.bindparam("service_id"))
_TERMS = sa.select(users.c.discount, CUSTOM_RATE.label("custom"), FORWARDED.label("forwarded")).where(
    users.c.id == sa.bindparam("user_id")
)
"""Built once: every order reads it (building a statement costs more than SQLite running it)."""


class CustomerRates:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def of_customer(self, user_id: int) -> dict[int, Units]:
        """Every custom rate of one customer, keyed by service id: one statement on the unique index."""
        rows = await self._conn.execute(
            sa.select(customer_rates.c.service_id, customer_rates.c.rate).where(customer_rates.c.user_id == user_id)
        )
        return {int(row.service_id): int(row.rate) for row in rows}

    async def terms(self, user_id: int, service_id: int) -> PriceTerms:
        """The customer's discount and custom rate for one service, and whether it is forwarded:
        one statement."""
        row = (await self._conn.execute(_TERMS, {"user_id": user_id, "service_id": service_id})).first()
        if row is None:
            return PriceTerms(0, None)
        return PriceTerms(int(row.discount), None if row.custom is None else int(row.custom), bool(row.forwarded))

    async def put(self, user_id: int, service_id: int, rate: Units) -> None:
        updated = await self._conn.execute(
            customer_rates.update()
            .where(customer_rates.c.user_id == user_id, customer_rates.c.service_id == service_id)
            .values(rate=rate)
        )
        if updated.rowcount == 0:
            await self._conn.execute(customer_rates.insert().values(user_id=user_id, service_id=service_id, rate=rate))

    async def remove(self, user_id: int, service_id: int) -> bool:
        deleted = await self._conn.execute(
            customer_rates.delete().where(
                customer_rates.c.user_id == user_id, customer_rates.c.service_id == service_id
            )
        )
        return deleted.rowcount > 0


class Categories:
    """The order categories are shown in, and which are hidden; a category without a row sorts at
    position 0 and is shown."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def positions(self) -> dict[str, int]:
        rows = await self._conn.execute(sa.select(categories.c.name, categories.c.position))
        return {str(row.name): int(row.position) for row in rows}

    async def put_positions(self, positions: dict[str, int]) -> None:
        known = await self.positions()
        for name, position in positions.items():
            if name in known:
                await self._conn.execute(categories.update().where(categories.c.name == name).values(position=position))
            else:
                await self._conn.execute(categories.insert().values(name=name, position=position))

    async def put_hidden(self, name: str, hidden: bool) -> None:
        updated = await self._conn.execute(categories.update().where(categories.c.name == name).values(hidden=hidden))
        if updated.rowcount == 0:
            await self._conn.execute(categories.insert().values(name=name, hidden=hidden))
