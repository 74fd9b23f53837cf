"""Forwarding: send each queued order to its provider, at most once."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

from sqlalchemy.exc import SQLAlchemyError

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.providers.apiv2_client import UpstreamAmbiguous, UpstreamRefused, UpstreamUnreachable
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import fulfilment, notifications

log = logging.getLogger("smmpanel.engine")

ABANDONED = "a worker stopped while sending it; the provider may have created the order: check there first"


async def expire_abandoned_sends(db: Database) -> int:
    """Lapsed claims are queued again (never sent); lapsed sends go to the operator."""
    now = utcnow()
    async with db.write() as repos:
        requeued = await repos.dispatch.expire_claims(now)
        abandoned = await repos.dispatch.expire_sends(now, ABANDONED)
        for order_id in abandoned:
            await notifications.order_needs_attention(repos, order_id, ABANDONED, now)
        return requeued + len(abandoned)


def _lease(settings: Settings) -> timedelta:
    """How long a send may take before its order is presumed abandoned."""
    return timedelta(seconds=settings.http_timeout + settings.http_connect_timeout + settings.send_lease_grace)


async def forward_due(db: Database, pool: ClientPool, settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Claim due orders, then send them, a bounded number at once per provider.

    Once ``stop`` is set (the engine is shutting down) no further send starts: claimed
    orders still waiting for their turn go back to ``queued``, due at once, for the next
    engine to send. They were never sent, so they need no reconciling. Sends already on
    the wire are awaited and recorded as usual.
    """
    now = utcnow()
    claimed_until = now + _lease(settings)  # a claim that lapses before its send starts is queued again
    async with db.write() as repos:
        claims = await repos.dispatch.claim_to_send(now, claimed_until, settings.forward_batch)
    gates: defaultdict[int, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(settings.provider_concurrency))
    # A send takes a pooled connection at each of its steps: with more sends at once than the
    # pool has connections, they would queue on the pool, whose timeout fails claimed orders.
    in_flight = asyncio.Semaphore(settings.db_pool_size)
    unsent: list[int] = []

    async def send(order_id: int) -> None:
        async with in_flight:
            if stop is not None and stop.is_set():
                unsent.append(order_id)
                return
            try:
                plan = await fulfilment.plan_send(db, order_id)
            except Exception:  # nothing went upstream yet: the order can safely wait for the next pass
                log.exception("order %d: could not prepare its send; it is queued again", order_id)
                unsent.append(order_id)
                return
            if plan is None:
                return
            async with gates[plan.provider.id]:
                if stop is not None and stop.is_set():  # the last moment at which it is certainly unsent
                    unsent.append(order_id)
                    return
                try:
                    started = await fulfilment.start_send(db, plan, claimed_until, utcnow() + _lease(settings))
                except Exception:
                    log.exception("order %d: could not start its send; it is queued again", order_id)
                    unsent.append(order_id)
                    return
                if not started:
                    return  # its claim lapsed and another worker has it, or it was canceled meanwhile
                try:
                    await _record(db, await _send(pool, settings, plan))
                except Exception:  # it may have reached the provider: its lease ends on the attention list
                    log.exception("order %d: its send could not be recorded", order_id)

    await asyncio.gather(*(send(claim.order_id) for claim in claims))
    if unsent:
        async with db.write() as repos:
            released = await repos.dispatch.release_sends(unsent, utcnow())
        log.info("%d claimed orders not sent yet are queued again", released)
    return len(claims)


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
        retry = plan.order.attempts < settings.send_retries
        backoff = timedelta(seconds=settings.retry_backoff * 2**plan.order.attempts)
        return partial(fulfilment.send_refused, plan=plan, reason=error.reason, retry_after=backoff if retry else None)
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
