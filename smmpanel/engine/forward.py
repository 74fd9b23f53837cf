"""Forwarding: send each queued order to its provider, at most once."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.exc import SQLAlchemyError

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.engine.coalesce import Coalescer
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


class Sends:
    """The database writes around one engine's sends, each kind made for many sends at once.

    A lane runs its provider's sends concurrently; marking each ``sending`` and recording each
    accepted answer would cost a transaction per order. Here the sends that reach one of these
    steps while the previous batch is being written are written together (``Coalescer``), and
    each send still waits for its own write before going on: an order is on the wire only after
    its ``sending`` is committed, exactly as when it was written alone.
    """

    def __init__(self, db: Database, settings: Settings, lanes: Lanes) -> None:
        self.db = db
        self._settings = settings
        self.lanes = lanes
        self.start: Coalescer[tuple[fulfilment.SendPlan, datetime], bool] = Coalescer(
            self._start, settings.forward_batch
        )
        """Mark one order ``sending`` (its claim's lease given); False when it is no longer ours."""
        self.accepted: Coalescer[tuple[fulfilment.SendPlan, int], None] = Coalescer(
            self._accept, settings.forward_batch
        )
        """Record the provider's order id of one accepted send."""

    async def _start(self, items: Sequence[tuple[fulfilment.SendPlan, datetime]]) -> list[bool]:
        by_claim: defaultdict[datetime, list[fulfilment.SendPlan]] = defaultdict(list)
        for plan, claim in items:
            by_claim[claim].append(plan)
        started: set[int] = set()
        async with self.lanes.database():
            for claim, plans in by_claim.items():
                started |= await fulfilment.start_sends(self.db, plans, claim, utcnow() + _lease(self._settings))
        return [plan.order.id in started for plan, _ in items]

    async def _accept(self, items: Sequence[tuple[fulfilment.SendPlan, int]]) -> list[None]:
        first_check = timedelta(seconds=self._settings.sync_interval)
        await _record(partial(fulfilment.sends_accepted, self.db, items, first_check), self.lanes)
        return [None] * len(items)


async def forward_due(
    db: Database,
    pool: ClientPool,
    settings: Settings,
    lanes: Lanes,
    sends: Sends,
    worker_id: int,
    stop: asyncio.Event | None = None,
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
    async with db.write_each() as repos:  # one statement: no BEGIN and COMMIT round trips on PostgreSQL
        claims = await repos.dispatch.claim_to_send(now, claimed_until, settings.forward_batch, lanes.busy(), worker_id)
    if not claims:
        return 0
    try:
        plans = await fulfilment.plan_sends(db, [claim.order_id for claim in claims])
    except Exception:  # nothing went upstream yet: the orders can safely wait for the next pass
        log.exception("%d claimed orders: could not prepare their sends; they are queued again", len(claims))
        await _release(db, [claim.order_id for claim in claims])
        return len(claims)
    for plan in plans:
        send = partial(_send_one, pool, settings, sends, plan, claimed_until, stop)
        lanes.submit(plan.provider.id, send, f"order {plan.order.id}: its send")
    return len(claims)


async def _send_one(
    pool: ClientPool,
    settings: Settings,
    sends: Sends,
    plan: fulfilment.SendPlan,
    claimed_until: datetime,
    stop: asyncio.Event | None,
) -> Recorder | None:
    """One order's send, in its provider's lane: mark it ``sending`` and call; answer how to record
    what the provider said (done once the lane's place is free for the next send)."""
    order_id = plan.order.id
    if stop is not None and stop.is_set():  # the last moment at which it is certainly unsent
        return None  # still claimed by this engine, which gives its claims back as it stops
    try:
        started = await sends.start((plan, claimed_until))
    except Exception:
        log.exception("order %d: could not start its send; it is queued again", order_id)
        await _release(sends.db, [order_id])
        return None
    if not started:
        return None  # its claim lapsed and another worker has it, or it was canceled meanwhile
    return partial(_recorded, await _send(pool, settings, sends, plan), order_id)


async def _recorded(record: Recorder, order_id: int) -> None:
    try:
        await record()
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


Recorder = Callable[[], Awaitable[None]]
"""Writes what a provider answered to one send."""

RECORD_ATTEMPTS = 3
"""A provider's answer is recorded again after a failed write (a database restart): losing it
would leave the order for the operator to check by hand."""
RECORD_BACKOFF_SECONDS = 1.0


async def _send(pool: ClientPool, settings: Settings, sends: Sends, plan: fulfilment.SendPlan) -> Recorder:
    """Send the order; return how to record the provider's answer."""
    db = sends.db
    try:
        provider_order_id = await pool.client_for(plan.provider).add(plan.params)
    except UpstreamRefused as refusal:
        return partial(_record, partial(fulfilment.send_refused, db, plan, refusal.message), sends.lanes)
    except UpstreamUnreachable as error:
        unreachable = partial(fulfilment.send_unreachable, db, plan, error.reason, outage_rules(settings))
        return partial(_record, unreachable, sends.lanes)
    except UpstreamAmbiguous as error:
        return partial(_record, partial(fulfilment.send_ambiguous, db, plan, error.reason), sends.lanes)
    return partial(sends.accepted, (plan, provider_order_id))


async def _record(record: Recorder, lanes: Lanes) -> None:
    """``record`` in one of the lanes' database places, tried again after a failed write."""
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            async with lanes.database():
                await record()
            return
        except (SQLAlchemyError, OSError):
            if attempt == RECORD_ATTEMPTS:
                raise
            log.warning("recording a send failed (attempt %d of %d); trying again", attempt, RECORD_ATTEMPTS)
            await asyncio.sleep(RECORD_BACKOFF_SECONDS * attempt)
