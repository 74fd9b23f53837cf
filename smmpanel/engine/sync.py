"""Status sync: ask providers about forwarded orders, 100 at a time, and apply the answers."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from functools import partial

from smmpanel import metrics
from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.dispatch_repositories import SyncClaim
from smmpanel.db.provider_repositories import Provider
from smmpanel.db.unit_of_work import Database
from smmpanel.engine.lanes import After, Lanes
from smmpanel.providers.apiv2_client import UpstreamError, UpstreamOrderStatus
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import fulfilment

IDS_PER_CALL = 100

log = logging.getLogger("smmpanel.engine")


async def sync_due(db: Database, pool: ClientPool, settings: Settings, lanes: Lanes) -> int:
    """Claim the orders due for a status check and hand their calls to their providers' lanes.

    Return how many were claimed. Providers whose lane is full are passed over this time.
    """
    now = utcnow()
    async with db.write() as repos:
        claims = await repos.dispatch.claim_to_sync(
            now, now + timedelta(seconds=settings.sync_interval), settings.sync_batch, lanes.busy()
        )
        providers = await repos.providers.many({claim.provider_id for claim in claims})
    by_provider: defaultdict[int, list[SyncClaim]] = defaultdict(list)
    for claim in claims:
        if claim.provider_id in providers:
            by_provider[claim.provider_id].append(claim)
    for provider_id, batch in by_provider.items():
        provider = providers[provider_id]
        for i in range(0, len(batch), IDS_PER_CALL):
            chunk = batch[i : i + IDS_PER_CALL]
            check = partial(_sync_chunk, db, pool, lanes, provider, chunk)
            lanes.submit(provider_id, check, f"{provider.name}: status")
    return len(claims)


async def _sync_chunk(
    db: Database, pool: ClientPool, lanes: Lanes, provider: Provider, chunk: list[SyncClaim]
) -> After | None:
    """One multi-status call; answers how to apply what it changes (once the lane's place is free)."""
    try:
        answers = await pool.client_for(provider).statuses([claim.provider_order_id for claim in chunk])
    except UpstreamError as error:
        log.warning("status check failed at %s: %s; %d orders wait a sync interval", provider.name, error, len(chunk))
        async with lanes.database():
            await fulfilment.check_failed(db, provider, error)
        metrics.upstream_error(provider.name)
        return None  # they are due again after the next interval
    known = [(claim, answers[claim.provider_order_id]) for claim in chunk if claim.provider_order_id in answers]
    return partial(_apply, db, lanes, provider, known)


async def _apply(
    db: Database, lanes: Lanes, provider: Provider, known: list[tuple[SyncClaim, UpstreamOrderStatus | str]]
) -> None:
    async with lanes.database():
        if fulfilment.in_trouble(provider):
            await fulfilment.provider_answered(db, provider)
        await fulfilment.apply_upstream_statuses(db, known, provider)
