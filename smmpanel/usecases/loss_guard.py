"""Never forward at a loss: which of a service's providers an order may go to for what it was charged.

An order is forwarded only to a provider whose cost for it, in the panel's currency, is at most
the order's charge. When every provider of the service costs more, the order waits on the
attention list with the figures (nothing is sent, nothing refunded: the operator raises the
rate, links a cheaper provider and resends, or fails it), unless the operator allowed the
service to sell below cost (its loss rule is ``flag``): then it goes to its provider and is flagged.
A link whose provider rate is unknown (linked by hand, never imported or synced) is not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from smmpanel.db.catalog_upkeep_repositories import ProviderCatalog
from smmpanel.db.provider_repositories import ServiceLink
from smmpanel.db.repositories import Repositories
from smmpanel.domain.orders import Order
from smmpanel.domain.upstream_cost import LossRule, in_panel_currency, order_cost
from smmpanel.money import Units, format_amount


@dataclass(frozen=True)
class Choice:
    """The link to send to (None: none may be used), and the order's cost there when known."""

    link: ServiceLink | None
    cost: Units | None
    below_cost: bool = False
    reason: str | None = None


async def _paid(repos: Repositories, order: Order) -> Units:
    """What the order was charged; a drip-feed run's share of its parent's charge."""
    if order.parent_id is None or order.charge:
        return order.charge
    parent = await repos.orders.get(order.parent_id)
    return parent.charge // max(1, parent.runs or 1) if parent else 0


async def choose_link(
    repos: Repositories,
    order: Order,
    links: list[ServiceLink],
    first: ServiceLink,
    rates: Mapping[int, ProviderCatalog],
) -> Choice:
    """``first`` or, when it costs more than the charge, the next provider that does not.

    ``rates`` holds the catalog of every provider in ``links`` (read once for a batch of orders).
    """
    paid = await _paid(repos, order)
    candidates = links[links.index(first) :]
    costs: list[Units] = []
    for link in candidates:
        if link.provider_rate is None:
            return Choice(link, None)
        cost = order_cost(in_panel_currency(link.provider_rate, rates[link.provider_id].exchange_rate), order.quantity)
        if cost <= paid:
            return Choice(link, cost)
        costs.append(cost)
    if (await repos.upkeep.services.get(order.service_id)).loss_rule is LossRule.FLAG:
        return Choice(first, costs[0], below_cost=True)
    reason = (
        f"not sent: its cost upstream ({format_amount(min(costs))} at the cheapest provider) exceeds "
        f"its charge ({format_amount(paid)}); raise the rate or link a cheaper provider, then resend, or fail it"
    )
    return Choice(None, min(costs), reason=reason)
