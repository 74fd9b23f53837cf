"""Customers' refill and cancel requests on forwarded orders, passed on to the provider."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.dispatch_repositories import DONE, QUEUED, SENT, RefillClaim, SyncClaim
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.refills import RefillStatus
from smmpanel.providers.apiv2_client import UpstreamError, UpstreamRefused
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import notifications

REFUSED = "refused"


async def forward_cancels(db: Database, pool: ClientPool, settings: Settings) -> int:
    """Ask providers to cancel; the refund follows from the status they report afterwards."""
    async with db.write() as repos:
        claims = await repos.dispatch.claim_cancels(utcnow(), settings.forward_batch)
        providers = await repos.providers.many({claim.provider_id for claim in claims})
    by_provider: defaultdict[int, list[SyncClaim]] = defaultdict(list)
    for claim in claims:
        by_provider[claim.provider_id].append(claim)
    for provider_id, batch in by_provider.items():
        provider = providers.get(provider_id)
        try:
            if provider is None:
                raise UpstreamRefused("the provider was removed")
            answers = await pool.client_for(provider).cancel([claim.provider_order_id for claim in batch])
        except UpstreamRefused as refusal:
            answers = {claim.provider_order_id: refusal.message for claim in batch}
        except UpstreamError:
            answers = {}  # unknown: ask again on the next pass, a cancel may be asked twice
        now = utcnow()
        async with db.write() as repos:
            for claim in batch:
                if claim.provider_order_id not in answers:
                    values: dict[str, object] = {"cancel_state": QUEUED}
                elif answers[claim.provider_order_id] is None:
                    values = {"next_attempt_at": now}  # check its status soon
                else:
                    values = {
                        "cancel_state": REFUSED,
                        "attention_reason": f"cancel: {answers[claim.provider_order_id]}",
                    }
                await repos.orders.update(claim.order_id, values, now)
    return len(claims)


async def forward_refills(db: Database, pool: ClientPool, settings: Settings) -> int:
    now = utcnow()
    retry_due = now - timedelta(seconds=settings.retry_backoff)
    async with db.write() as repos:
        claims = await repos.dispatch.claim_refills(QUEUED, now, retry_due, settings.forward_batch)
        providers = await repos.providers.many({claim.provider_id for claim in claims})
    for claim in claims:
        provider = providers.get(claim.provider_id)
        values: dict[str, object]
        try:
            if provider is None:
                raise UpstreamRefused("the provider was removed")
            refill_id = await pool.client_for(provider).refill(claim.provider_order_id)
            values = {"dispatch": SENT, "provider_refill_id": str(refill_id)}
        except UpstreamRefused:
            values = {"dispatch": DONE, "status": RefillStatus.REJECTED.value}
        except UpstreamError:
            continue  # stays queued; asking a provider for a refill twice does no harm
        async with db.write() as repos:
            await repos.dispatch.set_refill(claim.refill_id, values, utcnow())
            if values["dispatch"] == DONE:
                await notifications.refill_finished(repos, claim.refill_id, RefillStatus.REJECTED.value, utcnow())
    return len(claims)


async def sync_refills(db: Database, pool: ClientPool, settings: Settings) -> int:
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
        try:
            answers = await pool.client_for(providers[provider_id]).refill_statuses(
                [claim.provider_refill_id for claim in batch if claim.provider_refill_id is not None]
            )
        except UpstreamError:
            continue
        async with db.write() as repos:
            for claim in batch:
                answer = answers.get(claim.provider_refill_id or 0)
                if isinstance(answer, RefillStatus):
                    values: dict[str, object] = {"status": answer.value}
                    if answer.is_final:
                        values["dispatch"] = DONE
                    await repos.dispatch.set_refill(claim.refill_id, values, utcnow())
                    if answer.is_final:
                        await notifications.refill_finished(repos, claim.refill_id, answer.value, utcnow())
    return len(claims)
