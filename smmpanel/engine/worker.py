"""The engine's passes and loop: every kind of due work, as often as there is any."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import httpx

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.engine.catalog_sync import sync_due_catalogs
from smmpanel.engine.forward import expire_abandoned_sends, forward_due
from smmpanel.engine.mail_out import send_messages_due
from smmpanel.engine.provider_checks import check_providers
from smmpanel.engine.requests import forward_cancels, forward_refills, sync_refills
from smmpanel.engine.sync import sync_due
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import fulfilment

log = logging.getLogger("smmpanel.engine")


class Engine:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.pool = ClientPool(settings)
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout)
        )
        """For the mail pass's Telegram messages."""
        self._stop: asyncio.Event | None = None
        """Set while ``run_until`` runs: a pass in progress stops starting new sends once it is set."""

    async def run_pass(self) -> int:
        """Do all the work that is due now, once; return how many items were handled."""
        return await self._order_pass() + await self._notice_pass()

    async def _order_pass(self) -> int:
        db, pool, settings = self.db, self.pool, self.settings
        handled = await expire_abandoned_sends(db)
        handled += await self._place_drip_feed_runs()
        handled += await forward_due(db, pool, settings, self._stop)
        handled += await sync_due(db, pool, settings)
        handled += await forward_cancels(db, pool, settings)
        handled += await forward_refills(db, pool, settings)
        handled += await sync_refills(db, pool, settings)
        handled += await sync_due_catalogs(db, pool)
        return handled

    async def _notice_pass(self) -> int:
        """Messages out and providers' balances: a slow mail server or provider never holds up orders."""
        await check_providers(self.db, self.pool, self.settings)  # periodic: not work that keeps the loop busy
        return await send_messages_due(self.db, self.settings, self.http)

    async def _place_drip_feed_runs(self) -> int:
        async with self.db.write() as repos:
            due = await repos.dispatch.claim_drip_feeds(utcnow(), self.settings.forward_batch)
        for parent_id in due:
            await fulfilment.place_drip_feed_run(self.db, parent_id)
        return len(due)

    async def run_until(self, stop: asyncio.Event) -> None:
        """Pass after pass, orders and messages each in a loop of their own, until ``stop`` is set."""
        self._stop = stop
        await asyncio.gather(self._loop(self._order_pass, stop), self._loop(self._notice_pass, stop))

    async def _loop(self, one_pass: Callable[[], Awaitable[int]], stop: asyncio.Event) -> None:
        """Rest between passes that found nothing; survive a failing pass."""
        while not stop.is_set():
            try:
                handled = await one_pass()
            except Exception:  # a database or network outage must not end the engine
                log.exception("engine pass failed; retrying")
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.engine_interval)

    async def aclose(self) -> None:
        await self.pool.aclose()
        await self.http.aclose()
