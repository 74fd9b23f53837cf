"""The long API v2 fuzz run: 100,000 random requests against a live panel, then the books checked.

The same strategies and the same answer rules as the CI fuzz test (``tests/fuzz/strategies.py``),
only many more requests: no answer may be a server fault (500/503), a stack trace or anything
but JSON, and afterwards every balance must still be the sum of its ledger entries.

A scratch database is made for the run (a SQLite file in a temporary directory, or
``smmpanel_fuzz_<random>`` on the PostgreSQL server, dropped at the end) and the panel is
served in-process on a loopback port. Progress is printed every ``--every`` requests.
A failing request is shrunk by Hypothesis and printed; the exit status is then 1.

    .venv/bin/python -m benchmarks.fuzz_long                      # 100,000 requests on SQLite
    .venv/bin/python -m benchmarks.fuzz_long --backend postgres --requests 20000 --seed 7
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from sqlalchemy.engine import make_url

from smmpanel.config import Settings
from smmpanel.db.migrate import upgrade
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases import accounts
from tests.fuzz import strategies
from tests.fuzz.strategies import FuzzRequest, api_requests, check_answer, send
from tests.support.server import LiveServer

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def on_database(url: str, work: Callable[[Database], object]) -> object:
    async def scoped() -> object:
        db = Database(url, pool_size=2)
        try:
            return await work(db)  # type: ignore[misc]
        finally:
            await db.close()

    return asyncio.run(scoped())


async def _admin(admin_url: str, statement: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def scratch_database(backend: str, admin_url: str, purpose: str = "fuzz") -> Iterator[str]:
    """A migrated, empty database for one run (``smmpanel_<purpose>_<random>``), removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"smmpanel-{purpose}-") as directory:
            url = f"sqlite:///{Path(directory) / f'{purpose}.db'}"
            upgrade(url)
            yield url
        return
    name = f"smmpanel_{purpose}_{secrets.token_hex(4)}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def fuzz(url: str, requests: int, every: int, seed_value: int | None) -> bool:
    target = on_database(url, strategies.seed)
    assert isinstance(target, strategies.Target)
    server = LiveServer(Settings(database_url=url, **strategies.SERVER_SETTINGS)).start()
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    ok = True
    try:
        with httpx.Client(timeout=60) as client:

            @settings(
                max_examples=requests,
                deadline=None,
                database=None,
                phases=(Phase.generate, Phase.shrink),
                suppress_health_check=list(HealthCheck),
            )
            @given(request=api_requests(target))
            def run(request: FuzzRequest) -> None:
                response = send(client, server.base_url, request)
                statuses[response.status_code] += 1
                done = sum(statuses.values())
                if done % every == 0:
                    rate = done / (time.monotonic() - started)
                    print(f"{done:>8} requests  {rate:7.0f}/s  {dict(sorted(statuses.items()))}", flush=True)
                check_answer(request, response)

            if seed_value is not None:
                run = seed(seed_value)(run)
            try:
                run()
            except Exception as failure:  # a broken rule, or the server dropped the connection
                print(f"FAILED: {type(failure).__name__}: {failure}", file=sys.stderr)
                ok = False
    finally:
        server.stop()
    mismatches = on_database(url, accounts.verify_ledger)
    elapsed = time.monotonic() - started
    total = sum(statuses.values())
    print(f"{total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s); answers by HTTP status: {dict(statuses)}")
    if mismatches:
        print(f"FAILED: balances differ from their ledgers: {mismatches}", file=sys.stderr)
        return False
    print("ledger verified: every balance is the sum of its entries")
    return ok


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("python_multipart").setLevel(logging.ERROR)  # broken multipart bodies are the point
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL, help="an admin URL: the run makes its own DB")
    parser.add_argument("--every", type=int, default=5_000, help="print progress every N requests")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed, to repeat a run")
    args = parser.parse_args(argv)
    with scratch_database(args.backend, args.postgres_url) as url:
        passed = fuzz(url, args.requests, args.every, args.seed)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
