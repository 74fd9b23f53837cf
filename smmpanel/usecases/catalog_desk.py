"""The operator's view of one service: its terms and the providers that fulfil it.

Changes go through ``catalog`` (terms, prices, order) and ``providers`` (links, imports).
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.db.catalog_upkeep_repositories import Upkeep
from smmpanel.db.provider_repositories import Provider, ServiceLink
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service
from smmpanel.errors import NotFound


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
