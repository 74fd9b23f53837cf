"""Provider sync: the panel's linked services follow their provider's catalog, keeping the operator's edits.

Type, min, max, refill and cancel follow the provider; the description too, unless the operator
edited it; name and category are the operator's once a service exists. The rate follows the
provider's cost (in the panel's currency, see ``domain.upstream_cost``) keeping its markup,
unless price-locked; a cost above the rate meets the service's loss rule. A service gone from
the provider's list is disabled, never deleted, and enabled again when it returns. Each sync
is one transaction, and writes what it moved (old → new) to the change list.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from smmpanel.clock import utcnow
from smmpanel.db.catalog_upkeep_repositories import CatalogChange, ProviderCatalog, Upkeep
from smmpanel.db.provider_repositories import Provider, ServiceLink
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.domain.upstream_cost import LossRule, follow_cost, in_panel_currency, parse_exchange_rate
from smmpanel.errors import NotFound, Refused
from smmpanel.money import format_amount
from smmpanel.providers.apiv2_client import UpstreamError, UpstreamService
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases.audit import Audit, audited

FOLLOWED_TERMS = ("type", "min", "max", "refill", "cancel", "description")
OPERATOR_FIELDS = ("name", "description", "category")
"""Fields an operator's edit takes over from the provider for good."""
PUBLIC_KINDS = ("new", "rate", "disabled", "enabled")
"""What the customers' Updates page shows."""
UPDATES_SETTING = "updates_page"


async def _provider(repos: Repositories, name: str) -> Provider:
    provider = await repos.providers.by_name(name)
    if provider is None:
        raise NotFound(f"no provider named {name!r}")
    return provider


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value.value if isinstance(value, ServiceType) else str(value)


def upstream_terms(upstream: UpstreamService) -> dict[str, Any]:
    """The terms a provider sets for its service, as the panel stores them."""
    try:
        kind = ServiceType(upstream.type)
    except ValueError:
        kind = ServiceType.DEFAULT
    low = max(1, upstream.min)
    return {
        "type": kind,
        "min": low,
        "max": max(low, upstream.max),
        "refill": upstream.refill,
        "cancel": upstream.cancel,
        "description": upstream.description,
    }


class _Sync:
    """One provider's sync inside one transaction: the changes it made, as change-list rows."""

    def __init__(self, repos: Repositories, provider: Provider, billing: ProviderCatalog, now: datetime) -> None:
        self.repos, self.provider, self.billing, self.now = repos, provider, billing, now
        self.changes: list[dict[str, object]] = []

    def note(self, service_id: int, kind: str, field: str, old: object, new: object) -> None:
        old_text = None if old is None else _text(old)
        self.changes.append(
            {
                "provider_id": self.provider.id,
                "service_id": service_id,
                "kind": kind,
                "field": field,
                "old": old_text,
                "new": None if new is None else _text(new),
            }
        )

    async def follow(self, service: Service, upkeep: Upkeep, link: ServiceLink, upstream: UpstreamService) -> None:
        values: dict[str, object] = {}
        for name, value in upstream_terms(upstream).items():
            if name in upkeep.operator_fields or getattr(service, name) == value:
                continue
            values[name] = value
            self.note(service.id, "terms", name, getattr(service, name), value)
        exchange = self.billing.exchange_rate
        old_cost = None if link.provider_rate is None else in_panel_currency(link.provider_rate, exchange)
        new_cost = in_panel_currency(upstream.rate, exchange)
        followed = follow_cost(
            service.rate, locked=service.price_locked, rule=upkeep.loss_rule, old_cost=old_cost, new_cost=new_cost
        )
        if followed.rate != service.rate:
            values["rate"] = followed.rate
            self.note(service.id, "rate", "rate", format_amount(service.rate), format_amount(followed.rate))
        if old_cost != new_cost:
            self.note(
                service.id,
                "cost",
                "cost",
                None if old_cost is None else format_amount(old_cost),
                format_amount(new_cost),
            )
        if followed.at_loss != upkeep.at_loss:
            self.note(service.id, "loss", "at_loss", upkeep.at_loss, followed.at_loss)
        upkeep = replace(upkeep, at_loss=followed.at_loss)
        if followed.disable:
            upkeep = await self.disable(service, upkeep, values, "at a loss")
        else:
            upkeep = self.enable(service, upkeep, values)
        await self.save(service, upkeep, values)
        await self.repos.links.put(replace(link, provider_rate=upstream.rate), self.now)

    async def disable(self, service: Service, upkeep: Upkeep, values: dict[str, object], why: str) -> Upkeep:
        if service.enabled:
            values["enabled"] = False
            self.note(service.id, "disabled", "enabled", why, False)
            return replace(upkeep, sync_disabled=True)
        return upkeep

    def enable(self, service: Service, upkeep: Upkeep, values: dict[str, object]) -> Upkeep:
        if upkeep.sync_disabled and not service.enabled:
            values["enabled"] = True
            self.note(service.id, "enabled", "enabled", False, True)
        return replace(upkeep, sync_disabled=False)

    async def save(self, service: Service, upkeep: Upkeep, values: dict[str, object]) -> None:
        if values:
            stored = {k: v.value if isinstance(v, ServiceType) else v for k, v in values.items()}
            await self.repos.services.update(service.id, stored, self.now)
        await self.repos.upkeep.services.put(upkeep)


async def follow_catalog(
    repos: Repositories, provider: Provider, catalog: list[UpstreamService], now: datetime
) -> list[dict[str, object]]:
    """Bring every linked service of ``provider`` in line with ``catalog``."""
    by_id = {upstream.id: upstream for upstream in catalog}
    links = await repos.links.of_provider(provider.id)
    services = await repos.services.many(link.service_id for link in links)
    upkeeps = await repos.upkeep.services.many(link.service_id for link in links)
    sync = _Sync(repos, provider, await repos.upkeep.providers.get(provider.id), now)
    for link in sorted(links, key=lambda each: each.service_id):
        service = services.get(link.service_id)
        if service is None:
            continue
        upstream = by_id.get(link.provider_service_id)
        if upstream is None:
            values: dict[str, object] = {}
            upkeep = await sync.disable(service, upkeeps[service.id], values, f"gone from {provider.name}")
            await sync.save(service, upkeep, values)
        else:
            await sync.follow(service, upkeeps[service.id], link, upstream)
    await repos.upkeep.changes.add(sync.changes, now)
    return sync.changes


async def sync_catalog(db: Database, pool: ClientPool, provider_name: str) -> list[dict[str, object]]:
    """Sync one provider's catalog now; ``Refused`` with the reason when the provider did not answer."""
    async with db.read() as repos:
        provider = await _provider(repos, provider_name)
    try:
        catalog = await pool.client_for(provider).services()
    except UpstreamError as error:
        async with db.write() as repos:
            await repos.upkeep.providers.put(provider.id, sync_error=str(error), synced_at=utcnow())
        raise Refused("%(provider_name)s: %(error)s", provider_name=provider_name, error=error) from None
    now = utcnow()
    async with db.write() as repos:
        changes = await follow_catalog(repos, provider, catalog, now)
        await repos.upkeep.providers.put(provider.id, synced_at=now, sync_error=None)
    return changes


async def claim_due_syncs(db: Database, now: datetime) -> list[str]:
    """The providers whose sync interval has passed, each claimed so that one worker alone syncs it."""
    async with db.write() as repos:
        scheduled = await repos.upkeep.providers.scheduled()
        names = await repos.providers.many({s.provider_id for s in scheduled})
        claimed: list[str] = []
        for due in scheduled:
            if not due.sync_minutes or due.provider_id not in names:
                continue
            if due.synced_at is not None and due.synced_at + timedelta(minutes=due.sync_minutes) > now:
                continue
            if await repos.upkeep.providers.claim_sync(due.provider_id, due.synced_at, now):
                claimed.append(names[due.provider_id].name)
        return claimed


async def set_billing(
    db: Database,
    provider_name: str,
    *,
    currency: str | None = None,
    exchange_rate: str | None = None,
    sync_minutes: int | None = None,
    no_sync: bool = False,
    audit: Audit | None = None,
) -> ProviderCatalog:
    """Set how a provider bills (currency and exchange rate) and how often it is synced."""
    values: dict[str, object] = {}
    if currency is not None:
        if not currency.strip().isalpha() or len(currency.strip()) > 8:
            raise Refused("currency must be a code of letters, e.g. EUR")
        values["currency"] = currency.strip().upper()
    if exchange_rate is not None:
        try:
            values["exchange_rate"] = parse_exchange_rate(exchange_rate)
        except ValueError as error:
            raise Refused(str(error)) from None
    if sync_minutes is not None:
        if sync_minutes < 1:
            raise Refused("sync interval must be at least 1 minute")
        values["sync_minutes"] = sync_minutes
    if no_sync:
        values["sync_minutes"] = None
    async with db.write() as repos:
        provider = await _provider(repos, provider_name)
        before = await repos.upkeep.providers.get(provider.id)
        if values:
            await repos.upkeep.providers.put(provider.id, **values)
            old = {k: getattr(before, k) for k in values}
            await audited(repos, audit, "provider.billing", f"provider {provider_name}", old, values)
        return await repos.upkeep.providers.get(provider.id)


async def set_loss_rule(db: Database, service_id: int, rule: LossRule, *, audit: Audit | None = None) -> None:
    async with db.write() as repos:
        if await repos.services.get(service_id) is None:
            raise NotFound(f"no service {service_id}")
        upkeep = await repos.upkeep.services.get(service_id)
        await repos.upkeep.services.put(replace(upkeep, loss_rule=rule))
        before, after = {"loss_rule": upkeep.loss_rule.value}, {"loss_rule": rule.value}
        await audited(repos, audit, "service.loss_rule", f"service {service_id}", before, after)


async def unlink_service(db: Database, service_id: int, provider_id: int, *, audit: Audit | None = None) -> None:
    """The service stops going to this provider; with no provider left it is fulfilled by hand."""
    async with db.write() as repos:
        if not await repos.links.remove(service_id, provider_id):
            raise NotFound(f"service {service_id} is not linked to provider {provider_id}")
        await audited(repos, audit, "service.unlink", f"service {service_id}", {"provider": provider_id}, None)


async def mark_operator_fields(repos: Repositories, service_id: int, changed: list[str]) -> None:
    """The operator edited these fields by hand: from now on a sync leaves them alone."""
    owned = {name for name in changed if name in OPERATOR_FIELDS}
    if owned:
        upkeep = await repos.upkeep.services.get(service_id)
        await repos.upkeep.services.put(replace(upkeep, operator_fields=upkeep.operator_fields | owned))


async def upkeep_of(db: Database, service_id: int) -> Upkeep:
    async with db.read() as repos:
        return await repos.upkeep.services.get(service_id)


async def provider_changes(db: Database, provider_name: str, limit: int = 200) -> list[CatalogChange]:
    async with db.read() as repos:
        provider = await _provider(repos, provider_name)
        return await repos.upkeep.changes.latest(provider_id=provider.id, kinds=None, limit=limit)


async def billing_of(db: Database, provider_id: int) -> ProviderCatalog:
    async with db.read() as repos:
        return await repos.upkeep.providers.get(provider_id)


async def public_updates(db: Database, limit: int = 200) -> list[tuple[CatalogChange, str]] | None:
    """The customers' Updates page (change, service name), or None while the operator keeps it off."""
    async with db.read() as repos:
        if await repos.settings.get(UPDATES_SETTING) != "on":
            return None
        changes = await repos.upkeep.changes.latest(provider_id=None, kinds=PUBLIC_KINDS, limit=limit)
        services = await repos.services.many(change.service_id for change in changes)
    shown = {service_id: service for service_id, service in services.items() if not service.hidden}
    return [(change, shown[change.service_id].name) for change in changes if change.service_id in shown]


async def set_updates_page(db: Database, on: bool, *, audit: Audit | None = None) -> None:
    async with db.write() as repos:
        before = await repos.settings.get(UPDATES_SETTING) or "off"
        await repos.settings.put(UPDATES_SETTING, "on" if on else "off")
        await audited(repos, audit, "settings.updates_page", "updates page", {"on": before}, {"on": on})
