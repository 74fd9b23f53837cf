"""Providers that cannot be reached: what waits for them, and the operator's answers.

Orders are never canceled for an outage by the engine before the provider's limit has
passed (``fulfilment.send_unreachable``); until then, canceling them is the operator's
decision, taken for all waiting orders of a provider at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smmpanel.db.provider_repositories import Provider
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import NotFound, Refused
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.fulfilment import cancel_unsent

CANCEL_BATCH = 500
"""Waiting orders canceled per transaction: a long outage may hold many."""


@dataclass(frozen=True)
class Outage:
    provider: Provider
    waiting: int
    """Orders queued for it, Pending for their customers."""

    @property
    def since(self) -> datetime | None:
        return self.provider.down_since

    @property
    def summary(self) -> str:
        return f"provider unreachable: {self.waiting} orders waiting"


async def outages(db: Database) -> list[Outage]:
    """Every provider that is down, with how many orders wait for it, the longest-down first."""
    async with db.read() as repos:
        down = [provider for provider in await repos.providers.all() if provider.down_since is not None]
        waiting = await repos.dispatch.waiting_for_down_providers() if down else {}
    down.sort(key=lambda provider: (provider.down_since, provider.id))
    return [Outage(provider, waiting.get(provider.id, 0)) for provider in down]


async def _named(db: Database, name: str) -> Provider:
    async with db.read() as repos:
        provider = await repos.providers.by_name(name)
    if provider is None:
        raise NotFound(f"no provider named {name!r}")
    return provider


async def set_outage_limit(db: Database, name: str, seconds: int | None, *, audit: Audit | None = None) -> None:
    """How long the provider's orders wait out an outage; None for the panel's default."""
    if seconds is not None and seconds <= 0:
        raise Refused("the outage limit must be positive")
    provider = await _named(db, name)
    async with db.write() as repos:
        await repos.providers.set_outage_limit(provider.id, seconds)
        before, after = {"outage_limit": provider.outage_limit}, {"outage_limit": seconds}
        if before != after:
            await audited(repos, audit, "provider.update", f"provider {name}", before, after)


async def cancel_waiting(db: Database, name: str, *, audit: Audit | None = None) -> int:
    """The operator gives up on a provider's outage: every order waiting for it is canceled and
    refunded in full, each exactly once. Orders already claimed to be sent are left alone."""
    provider = await _named(db, name)
    reason = f"canceled by the operator: {provider.name} could not be reached"
    canceled = 0
    while True:
        async with db.write() as repos:
            order_ids = await repos.dispatch.claim_waiting(provider.id, CANCEL_BATCH)
            locked = await repos.orders.many(order_ids, for_update=True)
            batch = [order for order in locked.values() if not order.status.is_final]
            for order in batch:
                await cancel_unsent(repos, order, reason)
            if batch:
                after = {"canceled": [order.id for order in batch]}
                await audited(repos, audit, "provider.cancel_waiting", f"provider {name}", None, after)
        canceled += len(batch)
        if len(order_ids) < CANCEL_BATCH:
            return canceled
