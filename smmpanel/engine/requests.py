"""Customers' refill and cancel requests on forwarded orders, passed on to the provider."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from functools import partial
from typing import TypeVar

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.dispatch_repositories import DONE, QUEUED, SENT, RefillClaim, SyncClaim
from smmpanel.db.provider_repositories import Provider
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.refills import RefillStatus
from smmpanel.engine.lanes import Lanes
from smmpanel.providers.apiv2_client import MAX_IDS, UpstreamError, UpstreamRefused
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import notifications

REFUSED = "refused"

Claim = TypeVar("Claim", SyncClaim, RefillClaim)


def _calls(batch: list[Claim]) -> list[list[Claim]]:
    """A provider's claims in calls of at most ``MAX_IDS`` ids: API v2 takes no more in one list
    (the client refuses a longer one), and a claim batch can hold up to 1,000."""
    return [batch[start : start + MAX_IDS] for start in range(0, len(batch), MAX_IDS)]


async def forward_cancels(db: Database, pool: ClientPool, settings: Settings, lanes: Lanes) -> int:
    """Ask providers to cancel; the refund follows from the status they report afterwards."""
    async with db.write() as repos:
        claims = await repos.dispatch.claim_cancels(utcnow(), settings.forward_batch)
        providers = await repos.providers.many({claim.provider_id for claim in claims})
    by_provider: defaultdict[int, list[SyncClaim]] = defaultdict(list)
    for claim in claims:
        by_provider[claim.provider_id].append(claim)
    for provider_id, batch in by_provider.items():
        for chunk in _calls(batch):
            ask = partial(_cancel, db, pool, lanes, providers.get(provider_id), chunk)
            lanes.submit(provider_id, ask, f"provider {provider_id}: cancels")
    return len(claims)


async def _cancel(
    db: Database, pool: ClientPool, lanes: Lanes, provider: Provider | None, batch: list[SyncClaim]
) -> None:
    try:
        if provider is None:
            raise UpstreamRefused("the provider was removed")
        answers = await pool.client_for(provider).cancel([claim.provider_order_id for claim in batch])
    except UpstreamRefused as refusal:
        answers = {claim.provider_order_id: refusal.message for claim in batch}
    except UpstreamError:
        answers = {}  # unknown: ask again on the next pass, a cancel may be asked twice
    now = utcnow()
    async with lanes.database(), db.write() as repos:
        for claim in batch:
            if claim.provider_order_id not in answers:
                values: dict[str, object] = {"cancel_state": QUEUED}
            elif answers[claim.provider_order_id] is None:
                values = {"next_attempt_at": now}  # check its status soon
            else:
                values = {"cancel_state": REFUSED, "attention_reason": f"cancel: {answers[claim.provider_order_id]}"}
            await repos.orders.update(claim.order_id, values, now)


async def forward_refills(db: Database, pool: ClientPool, settings: Settings, lanes: Lanes) -> int:
    now = utcnow()
    retry_due = now - timedelta(seconds=settings.retry_backoff)
    async with db.write() as repos:
        claims = await repos.dispatch.claim_refills(QUEUED, now, retry_due, settings.forward_batch)
        providers = await repos.providers.many({claim.provider_id for claim in claims})
    for claim in claims:
        ask = partial(_refill, db, pool, lanes, providers.get(claim.provider_id), claim)
        lanes.submit(claim.provider_id, ask, f"refill {claim.refill_id}")
    return len(claims)


async def _refill(db: Database, pool: ClientPool, lanes: Lanes, provider: Provider | None, claim: RefillClaim) -> None:
    values: dict[str, object]
    try:
        if provider is None:
            raise UpstreamRefused("the provider was removed")
        refill_id = await pool.client_for(provider).refill(claim.provider_order_id)
        values = {"dispatch": SENT, "provider_refill_id": str(refill_id)}
    except UpstreamRefused:
        values = {"dispatch": DONE, "status": RefillStatus.REJECTED.value}
    except UpstreamError:
        return  # stays queued; asking a provider for a refill twice does no harm
    async with lanes.database(), db.write() as repos:
        await repos.dispatch.set_refill(claim.refill_id, values, utcnow())
        if values["dispatch"] == DONE:
            await notifications.refill_finished(repos, claim.refill_id, RefillStatus.REJECTED.value, utcnow())


async def sync_refills(db: Database, pool: ClientPool, settings: Settings, lanes: Lanes) -> int:
    now = utcnow()
    async with db.write() as repos:
        claims = await repos.dispatch.claim_refills(
            SENT, now, now - timedelta(seconds=settings.sync_interval), settings.sync_batch
        )
        providers = await repos.providers.many({claim.provider_id for claim in claims})
    by_provider: defaultdict[int, list[RefillClaim]] = defaultdict(list)
    for claim in claims:
        if claim.provider_id in providers and claim.provider_refill_id is not None:
            by_provider[claim.provider_id].append(claim)
    for provider_id, batch in by_provider.items():
        for chunk in _calls(batch):
            check = partial(_refill_statuses, db, pool, lanes, providers[provider_id], chunk)
            lanes.submit(provider_id, check, f"{providers[provider_id].name}: refill status")
    return len(claims)


async def _refill_statuses(
    db: Database, pool: ClientPool, lanes: Lanes, provider: Provider, batch: list[RefillClaim]
) -> None:
    try:
        answers = await pool.client_for(provider).refill_statuses(
            [claim.provider_refill_id for claim in batch if claim.provider_refill_id is not None]
        )
    except UpstreamError:
        return
    async with lanes.database(), db.write() as repos:
        for claim in batch:
            answer = answers.get(claim.provider_refill_id or 0)
            if isinstance(answer, RefillStatus):
                values: dict[str, object] = {"status": answer.value}
                if answer.is_final:
                    values["dispatch"] = DONE
                await repos.dispatch.set_refill(claim.refill_id, values, utcnow())
                if answer.is_final:
                    await notifications.refill_finished(repos, claim.refill_id, answer.value, utcnow())
