"""The engine's passes and loop: every kind of due work, as often as there is any."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import httpx

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.engine.catalog_sync import sync_due_catalogs
from smmpanel.engine.forward import Sends, expire_abandoned_sends, forward_due
from smmpanel.engine.lanes import Lanes
from smmpanel.engine.mail_out import send_messages_due
from smmpanel.engine.provider_checks import check_providers
from smmpanel.engine.requests import forward_cancels, forward_refills, sync_refills
from smmpanel.engine.sync import sync_due
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import archive, fulfilment
from smmpanel.usecases.operations import fold_counts

log = logging.getLogger("smmpanel.engine")

FORGET_WORKERS_AFTER = timedelta(days=1)
"""A worker row silent this long belongs to a worker long dead: it is removed."""
ARCHIVE_EVERY = timedelta(days=1)
"""How often each engine archives finished orders (``Settings.archive_after_days``)."""
FOLD_EVERY_SECONDS = 60.0
"""How often each engine folds the kept counts' deltas (``fold_counts``). The scrape and the
overview fold them too, but a panel nobody scrapes or looks at would otherwise keep one delta row
per order placed, and its first overview would fold them all at once."""


class Engine:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.pool = ClientPool(settings)
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout)
        )
        """For the mail pass's Telegram messages."""
        self.lanes = Lanes(settings.provider_concurrency, settings.db_pool_size)
        self.sends = Sends(db, settings, self.lanes)
        self._stop: asyncio.Event | None = None
        """Set while ``run_until`` runs: a pass in progress stops starting new sends once it is set."""
        self._worker_id: int | None = None
        """This engine's row in ``engine_workers``, which its claims name; its heartbeat keeps them."""
        self._registering = asyncio.Lock()
        """The heartbeat and the first pass both want the row: exactly one of them makes it."""
        self._archived_at: datetime | None = None
        """When this engine last archived orders; None: not yet (the first check pass does)."""
        self._rest_due = 0.0
        """When (monotonic) the loop's next pass also claims the rarer kinds of work."""
        self._fold_due = 0.0
        """When (monotonic) the next check pass folds the kept counts."""

    async def run_pass(self) -> int:
        """Do all the work that is due now, once, and wait for it; return how many items were handled."""
        await self._beat()
        handled = await self._start_due_work()
        await self.lanes.drain()
        return handled + await self._check_pass() + await self._mail_pass()

    async def _start_due_work(self, everything: bool = True) -> int:
        """Claim what is due and hand each exchange to its provider's lane, without waiting for them.

        Unless ``everything``, only sends and status checks are claimed on every pass; the rest
        (lapsed claims and sends, drip-feed runs, cancels, refills, catalogs: rare, and a
        transaction each to find out) at most once per engine interval. A worker forwarding
        a thousand orders a second passes many times a second, and would otherwise spend
        more on asking about them than on its sends.
        """
        db, pool, settings, lanes = self.db, self.pool, self.settings, self.lanes
        rest = everything or time.monotonic() >= self._rest_due
        handled = 0
        if rest:
            self._rest_due = time.monotonic() + settings.engine_interval
            handled += await expire_abandoned_sends(db, settings)
            handled += await self._place_drip_feed_runs()
        handled += await forward_due(db, pool, settings, lanes, self.sends, await self._registered(), self._stop)
        handled += await sync_due(db, pool, settings, lanes)
        if rest:
            handled += await forward_cancels(db, pool, settings, lanes)
            handled += await forward_refills(db, pool, settings, lanes)
            handled += await sync_refills(db, pool, settings, lanes)
            handled += await sync_due_catalogs(db, pool)
        return handled

    async def _start_frequent_work(self) -> int:
        """``_start_due_work`` as the engine's loop runs it."""
        return await self._start_due_work(everything=False)

    async def _mail_pass(self) -> int:
        """Messages out, in a loop of their own: a slow mail server never holds up orders."""
        return await send_messages_due(self.db, self.settings, self.http)

    async def _check_pass(self) -> int:
        """Providers' balances, the daily archive and the kept counts' fold, in a loop of their own: a
        provider slow to answer its balance holds up neither orders nor mail."""
        await check_providers(self.db, self.pool, self.settings)
        await self._archive_pass()
        if time.monotonic() >= self._fold_due:
            self._fold_due = time.monotonic() + FOLD_EVERY_SECONDS
            await fold_counts(self.db)
        return 0  # periodic: not work that keeps the loop busy

    async def _archive_pass(self) -> None:
        """Daily upkeep: finished orders leave the hot table (a run that moves nothing is cheap)."""
        days, now = self.settings.archive_after_days, utcnow()
        if days <= 0 or (self._archived_at is not None and now - self._archived_at < ARCHIVE_EVERY):
            return
        self._archived_at = now
        moved = sum(batch.moved for batch in await archive.archive_orders(self.db, days))
        if moved:
            log.info("archived %d orders finished more than %d days ago", moved, days)

    async def _place_drip_feed_runs(self) -> int:
        async with self.db.write() as repos:
            due = await repos.dispatch.claim_drip_feeds(utcnow(), self.settings.forward_batch)
        for parent_id in due:
            await fulfilment.place_drip_feed_run(self.db, parent_id)
        return len(due)

    async def run_until(self, stop: asyncio.Event) -> None:
        """Pass after pass, orders, messages and provider checks each in a loop of their own, until ``stop`` is set.

        An order pass does not wait for the exchanges it started: each provider's lane works on
        while the next pass claims work for the others. On ``stop``, sends not yet started
        are given back and those on the wire are awaited.
        """
        self._stop = stop
        heart = asyncio.create_task(self._beat_until(stop))
        try:
            await asyncio.gather(
                self._loop(self._start_frequent_work, stop, self.lanes.room),
                self._loop(self._mail_pass, stop),
                self._loop(self._check_pass, stop),
            )
        finally:
            await self.lanes.drain()
            stop.set()  # ends the heartbeat after its current beat, if the loops ended otherwise
            await heart
            await self._leave()

    async def _loop(
        self, one_pass: Callable[[], Awaitable[int]], stop: asyncio.Event, wake: asyncio.Event | None = None
    ) -> None:
        """Rest between passes that found nothing, until ``wake`` is set (if given) or the interval
        has gone by; survive a failing pass."""
        while not stop.is_set():
            if wake is not None:
                wake.clear()  # before the pass: a wake-up during the pass is not missed
            try:
                handled = await one_pass()
            except Exception:  # a database or network outage must not end the engine
                log.exception("engine pass failed; retrying")
                handled = 0
            if handled == 0:
                await _rest(self.settings.engine_interval, stop, wake)

    async def _registered(self) -> int:
        async with self._registering:
            if self._worker_id is None:
                now = utcnow()
                async with self.db.write() as repos:
                    self._worker_id = await repos.dispatch.register_worker(
                        socket.gethostname(), os.getpid(), now, now - FORGET_WORKERS_AFTER
                    )
            return self._worker_id

    async def _beat(self) -> None:
        worker_id = await self._registered()
        async with self.db.write() as repos:
            await repos.dispatch.beat(worker_id, utcnow())

    async def _beat_until(self, stop: asyncio.Event) -> None:
        """Beat while the engine runs, however long its passes take: a silent worker counts as dead."""
        every = self.settings.worker_heartbeat_timeout / 5
        while not stop.is_set():
            try:
                await self._beat()
            except Exception:  # the database is away: the next beat may reach it
                log.warning("engine heartbeat failed; trying again", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)

    async def _leave(self) -> None:
        """Give back the claims not started and remove this engine's row: others need not wait for it."""
        if self._worker_id is None:
            return
        async with self.db.write() as repos:
            released = await repos.dispatch.release_claims_of(self._worker_id, utcnow())
            await repos.dispatch.unregister_worker(self._worker_id)
        self._worker_id = None
        if released:
            log.info("%d claimed orders not sent yet are queued again", released)

    async def aclose(self) -> None:
        try:
            await self._leave()
        except Exception:  # the database is away: the heartbeat's silence frees the claims instead
            log.warning("could not give back this engine's claims; other workers take them over", exc_info=True)
        finally:
            await self.pool.aclose()
            await self.http.aclose()


async def _rest(seconds: float, *events: asyncio.Event | None) -> None:
    """Wait until one of ``events`` is set, or ``seconds`` have gone by."""
    waits = [asyncio.ensure_future(event.wait()) for event in events if event is not None]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
