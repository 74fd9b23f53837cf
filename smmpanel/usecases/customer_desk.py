"""The operator's view of customers: find them, and everything needed to look after one.

Changes go through ``accounts`` (funds, key, disable) and ``pricing`` (discount,
custom rates); this module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.db.repositories import Customer
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service
from smmpanel.domain.pricing import effective_rate
from smmpanel.errors import NotFound
from smmpanel.money import Units
from smmpanel.usecases.paging import Page, keyset_page

PAGE_SIZE = 50


async def find_customers(
    db: Database, text: str = "", *, before: int | None = None, after: int | None = None, limit: int = PAGE_SIZE
) -> Page[Customer]:
    """Users (customers and operators) whose name contains ``text``, newest first."""
    async with db.read() as repos:

        async def fetch(before: int | None, after: int | None, limit: int) -> list[Customer]:
            return await repos.users.search_page(text.strip() or None, before=before, after=after, limit=limit)

        return await keyset_page(fetch, lambda customer: customer.id, before=before, after=after, limit=limit)


@dataclass(frozen=True)
class CustomRate:
    service: Service
    rate: Units


@dataclass(frozen=True)
class CustomerView:
    customer: Customer
    custom_rates: list[CustomRate]
    services: list[Service]
    """Every service, for choosing the next custom rate."""

    def pays(self, service: Service) -> Units:
        """What this customer pays for ``service`` now (the same rule as their orders)."""
        custom = next((entry.rate for entry in self.custom_rates if entry.service.id == service.id), None)
        return effective_rate(service.rate, discount=self.customer.discount, custom=custom)


async def customer_view(db: Database, user_id: int) -> CustomerView:
    async with db.read() as repos:
        customer = await repos.users.by_id(user_id)
        if customer is None:
            raise NotFound(f"no user {user_id}")
        rates = await repos.rates.of_customer(user_id)
        services = await repos.services.listing(enabled_only=False)
    by_id = {service.id: service for service in services}
    custom = [CustomRate(by_id[sid], rate) for sid, rate in sorted(rates.items()) if sid in by_id]
    return CustomerView(customer, custom, services)
