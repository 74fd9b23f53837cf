"""The provider check pass: each provider's balance, asked every ``provider_check_interval`` seconds."""

from __future__ import annotations

import asyncio

from smmpanel.config import Settings
from smmpanel.db.provider_repositories import Provider
from smmpanel.db.unit_of_work import Database
from smmpanel.providers.apiv2_client import UpstreamError
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import provider_checks

BATCH = 50


async def check_providers(db: Database, pool: ClientPool, settings: Settings) -> int:
    """Ask the providers that are due for their balance; how many were asked (0 when checks are off)."""
    if settings.provider_check_interval <= 0:
        return 0
    due = await provider_checks.claim_checks(db, settings.provider_check_interval, BATCH)

    async def check(provider: Provider) -> None:
        try:
            balance, _currency = await pool.client_for(provider).balance()
        except UpstreamError as error:
            await provider_checks.record_check(db, provider, None, str(error))
            return
        await provider_checks.record_check(db, provider, balance, None)

    await asyncio.gather(*(check(provider) for provider in due))
    return len(due)
