"""The operator's view of one service: its terms and the providers that fulfil it.

Changes go through ``catalog`` (terms, prices, order) and ``providers`` (links, imports).
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.db.catalog_upkeep_repositories import Upkeep
from smmpanel.db.provider_repositories import Provider, ServiceLink
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service
from smmpanel.domain.upstream_cost import in_panel_currency
from smmpanel.errors import NotFound
from smmpanel.money import Units


@dataclass(frozen=True)
class LinkView:
    link: ServiceLink
    provider: Provider


@dataclass(frozen=True)
class ServiceView:
    service: Service
    links: list[LinkView]
    """In failover order: the first is tried first."""
    providers: list[Provider]
    """Every provider, for adding a link."""
    upkeep: Upkeep | None = None
    """Its loss rule and the fields its operator owns."""


async def service_view(db: Database, service_id: int) -> ServiceView:
    async with db.read() as repos:
        service = await repos.services.get(service_id)
        if service is None:
            raise NotFound(f"no service {service_id}")
        links = await repos.links.of_service(service_id)
        providers = await repos.providers.all()
        upkeep = await repos.upkeep.services.get(service_id)
    by_id = {provider.id: provider for provider in providers}
    views = [LinkView(link, by_id[link.provider_id]) for link in links if link.provider_id in by_id]
    return ServiceView(service, views, providers, upkeep)


async def all_providers(db: Database) -> list[Provider]:
    async with db.read() as repos:
        return await repos.providers.all()


@dataclass(frozen=True)
class ServiceCost:
    """A service's first provider, what it costs there per 1000 in the panel's currency, and the margin."""

    provider: str
    cost: Units | None
    margin: Units | None
    at_loss: bool


async def service_costs(db: Database) -> dict[int, ServiceCost]:
    """Service id → its cost and margin at its first provider (services fulfilled by hand are absent)."""
    async with db.read() as repos:
        links = await repos.links.all_first()
        services = await repos.services.many(links)
        providers = {p.id: p for p in await repos.providers.all()}
        billing = await repos.upkeep.providers.many(providers)
        upkeeps = await repos.upkeep.services.many(links)
    costs: dict[int, ServiceCost] = {}
    for service_id, link in links.items():
        if service_id not in services or link.provider_id not in providers:
            continue
        rate = link.provider_rate
        cost = None if rate is None else in_panel_currency(rate, billing[link.provider_id].exchange_rate)
        margin = None if cost is None else services[service_id].rate - cost
        costs[service_id] = ServiceCost(providers[link.provider_id].name, cost, margin, upkeeps[service_id].at_loss)
    return costs
