"""Providers: register upstream panels, import their catalogs, map services onto them."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from smmpanel.clock import utcnow
from smmpanel.db.provider_repositories import Provider, ServiceLink
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service
from smmpanel.domain.pricing import imported_rate
from smmpanel.domain.upstream_cost import Rounding, in_panel_currency, rounded_rate
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.money import Units, format_amount
from smmpanel.providers.apiv2_client import UpstreamError, UpstreamService
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import fulfilment
from smmpanel.usecases.audit import Audit, audited, record
from smmpanel.usecases.catalog import ServiceChanges, create_service, update_service
from smmpanel.usecases.catalog_sync import upstream_terms as _upstream_terms
from smmpanel.usecases.demo_catalog import hide_demo_catalog

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


async def _provider(db: Database, name: str) -> Provider:
    async with db.read() as repos:
        provider = await repos.providers.by_name(name)
    if provider is None:
        raise NotFound(f"no provider named {name!r}")
    return provider


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Refused("provider URL must be the full http(s) address of its API v2, e.g. https://panel.example/api/v2")


async def add_provider(db: Database, name: str, url: str, api_key: str, *, audit: Audit | None = None) -> int:
    if not _NAME.match(name):
        raise Refused("provider name must be 1-64 letters, digits, '_', '.' or '-'")
    _check_url(url)
    if not api_key.strip():
        raise Refused("provider key must not be empty")
    async with db.write() as repos:
        if await repos.providers.by_name(name) is not None:
            raise Refused("provider %(name)r already exists", name=name)
        provider_id = await repos.providers.add(name, url, api_key.strip(), utcnow())
        await audited(repos, audit, "provider.add", f"provider {name}", None, {"url": url})
    return provider_id


async def update_provider(
    db: Database, name: str, *, url: str, api_key: str | None, audit: Audit | None = None
) -> None:
    """Change a provider's address and, when given, its key; the audit log never holds a key."""
    _check_url(url)
    if api_key is not None and not api_key.strip():
        raise Refused("provider key must not be empty")
    async with db.write() as repos:
        provider = await repos.providers.by_name(name)
        if provider is None:
            raise NotFound(f"no provider named {name!r}")
        await repos.providers.set_url(provider.id, url)
        before: dict[str, object] = {"url": provider.url}
        after: dict[str, object] = {"url": url}
        if api_key is not None and api_key.strip() != provider.api_key:
            await repos.providers.set_key(provider.id, api_key.strip())
            before["key"], after["key"] = provider.masked_key, "…" + api_key.strip()[-4:]
        if before != after:
            await audited(repos, audit, "provider.update", f"provider {name}", before, after)


async def check_connection(db: Database, pool: ClientPool, name: str) -> tuple[Units, str]:
    """Ask the provider for its balance; ``Refused`` carries the reason it could not answer."""
    provider = await _provider(db, name)
    try:
        balance = await pool.client_for(provider).balance()
    except UpstreamError as error:
        await fulfilment.check_failed(db, provider, error)
        raise Refused(str(error)) from None
    await fulfilment.provider_answered(db, provider)
    return balance


@dataclass(frozen=True)
class ProviderView:
    provider: Provider
    balance: Units | None
    currency: str | None
    error: str | None


async def list_providers(db: Database, pool: ClientPool) -> list[ProviderView]:
    """Every provider with its balance, asked live, all at once; one that answers has its last error cleared."""
    async with db.read() as repos:
        providers = await repos.providers.all()

    async def view(provider: Provider) -> ProviderView:
        try:
            balance, currency = await pool.client_for(provider).balance()
        except UpstreamError as error:
            return ProviderView(provider, None, None, str(error))
        if provider.last_error is not None or provider.down_since is not None:
            await fulfilment.provider_answered(db, provider)  # it answers again: its last error is history
            provider = replace(provider, last_error=None, down_since=None)
        return ProviderView(provider, balance, currency, None)

    return list(await asyncio.gather(*(view(provider) for provider in providers)))


async def remove_provider(db: Database, name: str) -> None:
    """Forget a provider and its links; orders already forwarded keep its id in their history."""
    provider = await _provider(db, name)
    async with db.write() as repos:
        active = await repos.orders.active_count_for_provider(provider.id)
        if active:
            raise Refused("provider %(name)r still has %(active)s active orders", name=name, active=active)
        await repos.providers.remove(provider.id)


async def link_service(
    db: Database, service_id: int, provider_name: str, provider_service_id: int, priority: int
) -> None:
    provider = await _provider(db, provider_name)
    async with db.write() as repos:
        if await repos.services.get(service_id) is None:
            raise NotFound(f"no service {service_id}")
        await repos.links.put(ServiceLink(service_id, provider.id, provider_service_id, priority, None), utcnow())


@dataclass
class ImportReport:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    disabled: list[int] = field(default_factory=list)
    demo_hidden: list[int] = field(default_factory=list)
    """The demo's simulator services switched off by this first import of a real catalog."""

    @property
    def demo_notice(self) -> str:
        """What the operator is told of ``demo_hidden`` (a ``Phrase``); empty when nothing was switched off."""
        if not self.demo_hidden:
            return ""
        return Phrase(
            "The demo's %(count)s simulator services were switched off: switch any of them on again on Services.",
            count=len(self.demo_hidden),
        )


def _terms(
    upstream: UpstreamService, rate: Units | None, current: Service | None, owned: frozenset[str]
) -> ServiceChanges:
    """The provider's terms; a price-locked rate and the fields the operator edited stay as they are."""
    terms = ServiceChanges(**_upstream_terms(upstream))
    if current is not None and "description" in owned:
        terms = replace(terms, description=None)
    return replace(terms, rate=None if current is not None and current.price_locked else rate)


async def import_catalog(
    db: Database,
    pool: ClientPool,
    provider_name: str,
    *,
    markup: Units,
    fixed: Units = 0,
    category: str | None = None,
    only: set[int] | None = None,
    rounding: Rounding = Rounding.EXACT,
    audit: Audit | None = None,
) -> ImportReport:
    """Create or update local services from the provider's catalog.

    The rate is the provider's (in the panel's currency) plus ``markup`` percent plus
    ``fixed`` per 1000, rounded up as ``rounding`` says; a price-locked service keeps its
    rate, and a description the operator edited stays (its other terms follow the provider).
    Prices change only for future orders. A service that vanished upstream is
    disabled, never deleted: its orders keep pointing at it. Each service is its
    own transaction, so the audit entry (one per import, every rate it changed)
    is written once the import is done.
    """
    provider = await _provider(db, provider_name)
    catalog = [s for s in await pool.client_for(provider).services() if only is None or s.id in only]
    upstream_ids = {s.id for s in catalog}
    async with db.read() as repos:
        links = {link.provider_service_id: link for link in await repos.links.of_provider(provider.id)}
        existing = await repos.services.many(link.service_id for link in links.values())
        upkeeps = await repos.upkeep.services.many(link.service_id for link in links.values())
        exchange = (await repos.upkeep.providers.get(provider.id)).exchange_rate
    report = ImportReport()
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    now = utcnow()
    for upstream in catalog:
        link = links.get(upstream.id)
        current = existing.get(link.service_id) if link else None
        cost = in_panel_currency(upstream.rate, exchange)
        rate = rounded_rate(imported_rate(cost, percent=markup, fixed=fixed), rounding)
        owned = upkeeps[current.id].operator_fields if current else frozenset()
        terms = _terms(upstream, rate, current, owned)
        if terms.rate is not None and (current is None or current.rate != terms.rate):
            after[str(link.service_id if link else f"new:{upstream.id}")] = format_amount(terms.rate)
            if current is not None:
                before[str(current.id)] = format_amount(current.rate)
        if link is None:
            names = ServiceChanges(
                name=upstream.name[:255] or f"Service {upstream.id}",
                category=category or upstream.category[:255] or "Other",
            )
            service_id = await create_service(db, _merge(names, terms))
            report.created.append(service_id)
            after[str(service_id)] = after.pop(f"new:{upstream.id}")
        else:
            service_id = (await update_service(db, link.service_id, terms)).id
            report.updated.append(service_id)
        async with db.write() as repos:
            priority = link.priority if link else 0
            await repos.links.put(ServiceLink(service_id, provider.id, upstream.id, priority, upstream.rate), now)
            if link is None:  # the customers' Updates page lists it as a new service
                row = {"provider_id": provider.id, "service_id": service_id, "kind": "new", "field": "service"}
                await repos.upkeep.changes.add([{**row, "old": None, "new": format_amount(terms.rate or 0)}], now)
    for provider_service_id, link in links.items():
        if provider_service_id not in upstream_ids and (only is None or provider_service_id in only):
            service: Service = await update_service(db, link.service_id, ServiceChanges(enabled=False))
            report.disabled.append(service.id)
    summary = {"markup": format_amount(markup), "fixed": format_amount(fixed), "disabled": report.disabled}
    await record(db, audit, "provider.import", f"provider {provider_name}", before, {**after, **summary})
    if catalog:
        report.demo_hidden = await hide_demo_catalog(db, provider.name, audit=audit)
    return report


def _merge(base: ServiceChanges, extra: ServiceChanges) -> ServiceChanges:
    return ServiceChanges(**{**base.given(), **extra.given()})


async def provider_by_id(db: Database, provider_id: int) -> Provider:
    async with db.read() as repos:
        found = await repos.providers.many({provider_id})
    if provider_id not in found:
        raise NotFound(f"no provider {provider_id}")
    return found[provider_id]
