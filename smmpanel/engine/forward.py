"""Forwarding: send each queued order to its provider, at most once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.exc import SQLAlchemyError

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.engine.lanes import Lanes
from smmpanel.providers.apiv2_client import UpstreamAmbiguous, UpstreamRefused, UpstreamUnreachable
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import fulfilment, notifications

log = logging.getLogger("smmpanel.engine")

ABANDONED = "a worker stopped while sending it; the provider may have created the order: check there first"


async def expire_abandoned_sends(db: Database, settings: Settings) -> int:
    """Claims of dead workers are queued again (never sent); lapsed sends go to the operator."""
    now = utcnow()
    async with db.write() as repos:
        requeued = await repos.dispatch.expire_claims(now, now - timedelta(seconds=settings.worker_heartbeat_timeout))
        abandoned = await repos.dispatch.expire_sends(now, ABANDONED)
        for order_id in abandoned:
            await notifications.order_needs_attention(repos, order_id, ABANDONED, now)
        return requeued + len(abandoned)


def _lease(settings: Settings) -> timedelta:
    """How long a send may take before its order is presumed abandoned."""
    return timedelta(seconds=settings.http_timeout + settings.http_connect_timeout + settings.send_lease_grace)


async def forward_due(
    db: Database, pool: ClientPool, settings: Settings, lanes: Lanes, worker_id: int, stop: asyncio.Event | None = None
) -> int:
    """Claim due orders and hand each one's send to its provider's lane; return how many were claimed.

    Providers whose lane is full are passed over: their orders stay queued in the database.
    Once ``stop`` is set (the engine is shutting down) no further send starts: claimed
    orders still waiting for their turn are left for the stopping engine to give back
    (``release_claims_of``). They were never sent, so they need no reconciling. Sends
    already on the wire are awaited and recorded as usual.
    """
    now = utcnow()
    claimed_until = now + _lease(settings)  # a claim that lapses before its send starts is queued again
    async with db.write() as repos:
        claims = await repos.dispatch.claim_to_send(now, claimed_until, settings.forward_batch, lanes.busy(), worker_id)
    unsent: list[int] = []
    for claim in claims:
        try:
            plan = await fulfilment.plan_send(db, claim.order_id)
        except Exception:  # nothing went upstream yet: the order can safely wait for the next pass
            log.exception("order %d: could not prepare its send; it is queued again", claim.order_id)
            unsent.append(claim.order_id)
            continue
        if plan is not None:
            send = partial(_send_one, db, pool, settings, lanes, plan, claimed_until, stop)
            lanes.submit(plan.provider.id, send, f"order {plan.order.id}: its send")
    await _release(db, unsent)
    return len(claims)


async def _send_one(
    db: Database,
    pool: ClientPool,
    settings: Settings,
    lanes: Lanes,
    plan: fulfilment.SendPlan,
    claimed_until: datetime,
    stop: asyncio.Event | None,
) -> None:
    """One order's send, in its provider's lane: mark it ``sending``, call, record the answer."""
    order_id = plan.order.id
    if stop is not None and stop.is_set():  # the last moment at which it is certainly unsent
        return  # still claimed by this engine, which gives its claims back as it stops
    try:
        async with lanes.database():
            started = await fulfilment.start_send(db, plan, claimed_until, utcnow() + _lease(settings))
    except Exception:
        log.exception("order %d: could not start its send; it is queued again", order_id)
        await _release(db, [order_id])
        return
    if not started:
        return  # its claim lapsed and another worker has it, or it was canceled meanwhile
    record = await _send(pool, settings, plan)
    try:
        async with lanes.database():
            await _record(db, record)
    except Exception:  # it may have reached the provider: its lease ends on the attention list
        log.exception("order %d: its send could not be recorded", order_id)


async def _release(db: Database, order_ids: list[int]) -> None:
    if order_ids:
        async with db.write() as repos:
            released = await repos.dispatch.release_sends(order_ids, utcnow())
        log.info("%d claimed orders not sent yet are queued again", released)


def outage_rules(settings: Settings) -> fulfilment.OutageRules:
    return fulfilment.OutageRules(
        retries=settings.send_retries,
        backoff=timedelta(seconds=settings.retry_backoff),
        longest=timedelta(seconds=settings.outage_retry_max),
        limit=timedelta(seconds=settings.outage_limit),
    )


Recorder = Callable[[Database], Awaitable[None]]
"""Writes what a provider answered to one send."""

RECORD_ATTEMPTS = 3
"""A provider's answer is recorded again after a failed write (a database restart): losing it
would leave the order for the operator to check by hand."""
RECORD_BACKOFF_SECONDS = 1.0


async def _send(pool: ClientPool, settings: Settings, plan: fulfilment.SendPlan) -> Recorder:
    """Send the order; return how to record the provider's answer."""
    try:
        provider_order_id = await pool.client_for(plan.provider).add(plan.params)
    except UpstreamRefused as refusal:
        return partial(fulfilment.send_refused, plan=plan, reason=refusal.message)
    except UpstreamUnreachable as error:
        return partial(fulfilment.send_unreachable, plan=plan, reason=error.reason, rules=outage_rules(settings))
    except UpstreamAmbiguous as error:
        return partial(fulfilment.send_ambiguous, plan=plan, reason=error.reason)
    return partial(fulfilment.send_accepted, plan=plan, provider_order_id=provider_order_id)


async def _record(db: Database, record: Recorder) -> None:
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            await record(db)
            return
        except (SQLAlchemyError, OSError):
            if attempt == RECORD_ATTEMPTS:
                raise
            log.warning("recording a send failed (attempt %d of %d); trying again", attempt, RECORD_ATTEMPTS)
            await asyncio.sleep(RECORD_BACKOFF_SECONDS * attempt)
