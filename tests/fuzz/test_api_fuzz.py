"""API v2 under random requests: never a server fault, never a trace, always JSON, books balanced.

A few hundred requests per back end (``FUZZ_EXAMPLES``); ``benchmarks/fuzz_long.py`` sends
100,000 from the same strategies.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import httpx
from hypothesis import HealthCheck, given, settings

from smmpanel.db.unit_of_work import Database
from smmpanel.usecases import accounts
from tests.fuzz.strategies import SERVER_SETTINGS, FuzzRequest, Target, api_requests, check_answer, seed, send
from tests.support.server import LiveServer
from tests.support.threads import in_thread

FUZZ_EXAMPLES = int(os.environ.get("SMMPANEL_FUZZ_EXAMPLES", "300"))


def on_database(url: str, work: Callable[[Database], object]) -> object:
    async def scoped() -> object:
        db = Database(url, pool_size=2)
        try:
            return await work(db)  # type: ignore[misc]
        finally:
            await db.close()

    return in_thread(lambda: asyncio.run(scoped()))


def test_random_requests_never_break_the_api(database_url: str, start_server: Callable[..., LiveServer]) -> None:
    target = on_database(database_url, seed)
    assert isinstance(target, Target)
    server = start_server(**SERVER_SETTINGS)
    with httpx.Client(timeout=60) as client:

        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        )
        @given(request=api_requests(target))
        def fuzz(request: FuzzRequest) -> None:
            check_answer(request, send(client, server.base_url, request))

        fuzz()
        # still serving, and every balance is still the sum of its ledger entries
        answer = client.post(server.api_url, data={"key": target.key, "action": "balance"}).json()
        assert set(answer) == {"balance", "currency"}
    assert on_database(database_url, accounts.verify_ledger) == []
