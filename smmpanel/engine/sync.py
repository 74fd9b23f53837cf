"""Status sync: ask providers about forwarded orders, 100 at a time, and apply the answers."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import timedelta

from smmpanel import metrics
from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.dispatch_repositories import SyncClaim
from smmpanel.db.unit_of_work import Database
from smmpanel.providers.apiv2_client import UpstreamError
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import fulfilment

IDS_PER_CALL = 100

log = logging.getLogger("smmpanel.engine")


async def sync_due(db: Database, pool: ClientPool, settings: Settings) -> int:
    """One round of status checks for the orders that are due; return how many were checked."""
    now = utcnow()
    async with db.write() as repos:
        claims = await repos.dispatch.claim_to_sync(
            now, now + timedelta(seconds=settings.sync_interval), settings.sync_batch
        )
        providers = await repos.providers.many({claim.provider_id for claim in claims})
    by_provider: defaultdict[int, list[SyncClaim]] = defaultdict(list)
    for claim in claims:
        if claim.provider_id in providers:
            by_provider[claim.provider_id].append(claim)

    async def sync_provider(provider_id: int, batch: list[SyncClaim]) -> None:
        provider = providers[provider_id]
        client = pool.client_for(provider)
        gate = asyncio.Semaphore(settings.provider_concurrency)

        async def one_call(chunk: list[SyncClaim]) -> None:
            async with gate:
                try:
                    answers = await client.statuses([claim.provider_order_id for claim in chunk])
                except UpstreamError as error:
                    log.warning("status check failed at %s: %s; %d orders wait a sync interval", provider.name, error,
                                len(chunk))  # fmt: skip
                    async with db.write() as repos:
                        await repos.providers.record_health(provider.id, str(error), utcnow())
                    metrics.upstream_error(provider.name)
                    return  # they are due again after the next interval
            known = [(claim, answers[claim.provider_order_id]) for claim in chunk if claim.provider_order_id in answers]
            await fulfilment.apply_upstream_statuses(db, known, provider)

        chunks = [batch[i : i + IDS_PER_CALL] for i in range(0, len(batch), IDS_PER_CALL)]
        await asyncio.gather(*(one_call(chunk) for chunk in chunks))

    await asyncio.gather(*(sync_provider(pid, batch) for pid, batch in by_provider.items()))
    return len(claims)
