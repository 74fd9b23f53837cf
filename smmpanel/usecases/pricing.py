"""Customer prices: a standing discount per customer and custom rates per customer and service.

Every place that charges or shows a rate to a customer (API ``add`` and
``services``, the order form) goes through here, so the rule lives in one place
(``smmpanel.domain.pricing``) and each answer costs at most one extra statement.
"""

from __future__ import annotations

from smmpanel.db.repositories import Customer, Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service
from smmpanel.domain.pricing import check_discount, priced_for_customer
from smmpanel.errors import NotFound, Refused
from smmpanel.money import Units, format_amount
from smmpanel.usecases import catalog
from smmpanel.usecases.audit import Audit, audited


async def priced_service(repos: Repositories, user_id: int, service: Service) -> Service:
    """One service at the customer's rate: one statement (their discount and custom rate together)."""
    terms = await repos.rates.terms(user_id, service.id)
    return priced_for_customer(service, discount=terms.discount, custom=terms.custom_rate)


async def price_listing(repos: Repositories, customer: Customer, listing: list[Service]) -> list[Service]:
    """A listing at the customer's rates: one statement for all their custom rates."""
    custom = await repos.rates.of_customer(customer.id) if listing else {}
    return [priced_for_customer(s, discount=customer.discount, custom=custom.get(s.id)) for s in listing]


async def services_for(db: Database, customer: Customer, *, enabled_only: bool = True) -> list[Service]:
    """The catalog as this customer buys it (API ``services``, the order form)."""
    listing = await catalog.list_services(db, enabled_only=enabled_only)  # cached: smmpanel.db.cache
    async with db.read() as repos:
        return await price_listing(repos, customer, listing)


async def _customer(repos: Repositories, username: str) -> Customer:
    customer = await repos.users.by_username(username)
    if customer is None:
        raise NotFound(f"no user named {username!r}")
    return customer


async def custom_rates_of(db: Database, user_id: int) -> dict[int, Units]:
    async with db.read() as repos:
        return await repos.rates.of_customer(user_id)


async def set_discount(db: Database, username: str, discount: Units, *, audit: Audit | None = None) -> None:
    """A standing percent off every service rate (custom rates excepted), for future orders."""
    problem = check_discount(discount)
    if problem:
        raise Refused(problem)
    async with db.write() as repos:
        customer = await _customer(repos, username)
        await repos.users.set_discount(customer.id, discount)
        before, after = {"discount": format_amount(customer.discount)}, {"discount": format_amount(discount)}
        await audited(repos, audit, "customer.discount", f"customer {username}", before, after)


async def set_custom_rate(
    db: Database, username: str, service_id: int, rate: Units | None, *, audit: Audit | None = None
) -> None:
    """Give a customer their own rate for one service; None takes it away (back to the discounted rate)."""
    if rate is not None and rate < 0:
        raise Refused("rate must not be negative")
    async with db.write() as repos:
        customer = await _customer(repos, username)
        if await repos.services.get(service_id) is None:
            raise NotFound(f"no service {service_id}")
        old = (await repos.rates.of_customer(customer.id)).get(service_id)
        if rate is None:
            await repos.rates.remove(customer.id, service_id)
        else:
            await repos.rates.put(customer.id, service_id, rate)
        before = {"rate": None if old is None else format_amount(old)}
        after = {"rate": None if rate is None else format_amount(rate)}
        target = f"customer {username} service {service_id}"
        await audited(repos, audit, "customer.custom_rate", target, before, after)
