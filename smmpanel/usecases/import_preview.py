"""The import preview: a provider's catalog as the operator would import it, before anything is written.

Each of the provider's services with its rate in the panel's currency, the rate it would sell
for under the chosen markup and rounding, and the local service already linked to it, if any.
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.db.unit_of_work import Database
from smmpanel.domain.pricing import imported_rate
from smmpanel.domain.upstream_cost import Rounding, in_panel_currency, rounded_rate
from smmpanel.errors import NotFound
from smmpanel.money import Units
from smmpanel.providers.apiv2_client import UpstreamService
from smmpanel.providers.pool import ClientPool


@dataclass(frozen=True)
class PreviewRow:
    upstream: UpstreamService
    cost: Units
    """The provider's rate in the panel's currency (rounded up)."""
    rate: Units
    """What it would sell for: the cost with the markup, rounded as chosen."""
    linked_to: int | None
    """The local service already linked to it."""


@dataclass(frozen=True)
class Preview:
    rows: list[PreviewRow]
    categories: list[str]
    """The provider's categories, in the order they first appear, for the filter."""


async def preview_catalog(
    db: Database,
    pool: ClientPool,
    provider_name: str,
    *,
    markup: Units,
    fixed: Units = 0,
    rounding: Rounding = Rounding.EXACT,
    search: str = "",
    category: str = "",
) -> Preview:
    """The provider's catalog, asked live, priced; ``search`` matches id or name, ``category`` exactly."""
    async with db.read() as repos:
        provider = await repos.providers.by_name(provider_name)
        if provider is None:
            raise NotFound(f"no provider named {provider_name!r}")
        links = {link.provider_service_id: link.service_id for link in await repos.links.of_provider(provider.id)}
        exchange = (await repos.upkeep.providers.get(provider.id)).exchange_rate
    catalog = await pool.client_for(provider).services()
    categories = list(dict.fromkeys(upstream.category for upstream in catalog))
    needle = search.strip().lower()
    rows = []
    for upstream in catalog:
        if category and upstream.category != category:
            continue
        if needle and needle not in upstream.name.lower() and needle != str(upstream.id):
            continue
        cost = in_panel_currency(upstream.rate, exchange)
        rate = rounded_rate(imported_rate(cost, percent=markup, fixed=fixed), rounding)
        rows.append(PreviewRow(upstream, cost, rate, links.get(upstream.id)))
    return Preview(rows, categories)
