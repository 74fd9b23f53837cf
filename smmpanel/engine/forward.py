"""Forwarding: send each queued order to its provider, at most once."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import timedelta

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.providers.apiv2_client import UpstreamAmbiguous, UpstreamRefused, UpstreamUnreachable
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import fulfilment

log = logging.getLogger("smmpanel.engine")

ABANDONED = "a worker stopped while sending it; the provider may have created the order: check there first"


async def expire_abandoned_sends(db: Database) -> int:
    async with db.write() as repos:
        return len(await repos.dispatch.expire_sends(utcnow(), ABANDONED))


async def forward_due(db: Database, pool: ClientPool, settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Claim due orders, then send them, a bounded number at once per provider.

    Once ``stop`` is set (the engine is shutting down) no further send starts: claimed
    orders still waiting for their turn go back to ``queued``, due at once, for the next
    engine to send. They were never sent, so they need no reconciling. Sends already on
    the wire are awaited and recorded as usual.
    """
    now = utcnow()
    lease_until = now + timedelta(
        seconds=settings.http_timeout + settings.http_connect_timeout + settings.send_lease_grace
    )
    async with db.write() as repos:
        claims = await repos.dispatch.claim_to_send(now, lease_until, settings.forward_batch)
    gates: defaultdict[int, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(settings.provider_concurrency))
    unsent: list[int] = []

    async def send(order_id: int) -> None:
        if stop is not None and stop.is_set():
            unsent.append(order_id)
            return
        plan = await fulfilment.plan_send(db, order_id)
        if plan is None:
            return
        async with gates[plan.provider.id]:
            if stop is not None and stop.is_set():  # the last moment at which it is certainly unsent
                unsent.append(order_id)
                return
            try:
                provider_order_id = await pool.client_for(plan.provider).add(plan.params)
            except UpstreamRefused as refusal:
                await fulfilment.send_refused(db, plan, refusal.message)
            except UpstreamUnreachable as error:
                retry = plan.order.attempts < settings.send_retries
                backoff = timedelta(seconds=settings.retry_backoff * 2**plan.order.attempts)
                await fulfilment.send_refused(db, plan, error.reason, retry_after=backoff if retry else None)
            except UpstreamAmbiguous as error:
                await fulfilment.send_ambiguous(db, plan, error.reason)
            else:
                await fulfilment.send_accepted(db, plan, provider_order_id)

    await asyncio.gather(*(send(claim.order_id) for claim in claims))
    if unsent:
        async with db.write() as repos:
            released = await repos.dispatch.release_sends(unsent, utcnow())
        log.info("stopping: %d claimed orders not sent yet are queued again", released)
    return len(claims)
