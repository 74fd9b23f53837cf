"""Where a polling request's CPU goes inside smmpanel, piece by piece, beside ``benchmarks.bare``.

No HTTP server: the ASGI applications are called in this process with a ready request (the part
uvicorn and httptools play is the same for every server and is left out), on a scratch SQLite
file loaded like ``benchmarks.api``'s. For each scenario (``--scenarios``: ``balance``,
``status-1``, ``status-100``, and ``add``, ``add-broke``) it prints the CPU time per call
(``time.process_time`` of the process, so a thread's share counts too; best of ``--rounds``
rounds of ``--calls`` calls, the rounds of all variants interleaved) of:

``smmpanel``           the whole application: middleware, routing, API v2, the log line, metrics
``no middleware``      its router alone (no security headers, observability or body limit)
``endpoint``           API v2's endpoint, called with a Starlette request
``read params``        parsing the form body
``authenticate``       the API key's customer (a hit of the key cache)
``rate limits``        the limiter's check (the failed-key counter is on by default)
``read inline``        the direct read on the event loop (``smmpanel.db.inline_sqlite``)
``read on thread``     the same read on aiosqlite's thread (what ran before)
``place order``        ``add`` only: the use case (``orders.place_order``), its parameters read and key found
``log line + metrics`` the observability middleware's end of request (its log line to stderr)
``bare``               ``benchmarks.bare``'s application on aiosqlite (the limit of issue #16 item 1)
``bare-sqlite3``       ``benchmarks.bare --driver sqlite3``'s application (the limit of item 8)

and the CPU ratios of the two bare applications over smmpanel's.

    .venv/bin/python -m benchmarks.pieces                       # SQLite, 10,000 orders
    .venv/bin/python -m benchmarks.pieces --scenarios add,add-broke --calls 500
    .venv/bin/python -m benchmarks.pieces --orders 1000000 --calls 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

from benchmarks import api, bare
from smmpanel.api import v2
from smmpanel.api.observability import Observability, api_call
from smmpanel.api.params import read_params
from smmpanel.app import create_app
from smmpanel.config import Settings
from smmpanel.db.direct_reads import SqliteDirectReads
from smmpanel.errors import Refused
from smmpanel.logging_setup import configure_logging
from smmpanel.usecases import accounts, orders

SCENARIOS = ("balance", "status-1", "status-100")
WRITES = ("add", "add-broke")
Call = Callable[[bytes], Awaitable[object]]


def scope_of(body: bytes) -> dict[str, Any]:
    """An API v2 POST as uvicorn hands it over."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v2",
        "raw_path": b"/api/v2",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call_asgi(app: Any, body: bytes, extra: dict[str, Any] | None = None) -> bytes:
    """One request through ``app``; the answer's body."""
    sent: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(message.get("body", b""))

    await app({**scope_of(body), **(extra or {})}, receive, send)
    return b"".join(sent)


def request_of(app: Starlette, body: bytes) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({**scope_of(body), "app": app}, receive)


@contextlib.asynccontextmanager
async def smmpanel_app(url: str) -> AsyncIterator[Starlette]:
    app = create_app(Settings(database_url=url, run_engine=False))
    async with app.router.lifespan_context(app):
        yield app


def variants(
    app: Starlette, limits: dict[str, bare.BareApp], user_id: int, ids: Sequence[int], scenario: str
) -> dict[str, Call]:
    """Each piece of ``scenario`` as a call of one request body."""
    state = app.state
    db = state.db
    direct = db.direct
    assert isinstance(direct, SqliteDirectReads)
    routed = {"app": app, "starlette.exception_handlers": ({}, {})}

    async def thread_read(body: bytes) -> object:
        saved, direct.inline.fetch = direct.inline.fetch, lambda sql, parameters: None  # type: ignore[method-assign]
        try:
            return await action_read(body)
        finally:
            direct.inline.fetch = saved  # type: ignore[method-assign]

    async def action_read(body: bytes) -> object:
        if b"action=balance" in body:
            return await direct.balance(user_id)
        return await direct.progress(user_id, list(ids[:100] if b"orders=" in body else ids[:1]))

    async def params(body: bytes) -> object:
        return await read_params(request_of(app, body))

    async def authenticate(body: bytes) -> object:
        return await accounts.authenticate(db, body.split(b"key=")[1].split(b"&")[0].decode())

    async def limits_check(body: bytes) -> object:
        return await state.limits.check("127.0.0.1", user_id, scenario.split("-")[0])

    async def finish(body: bytes) -> object:
        scope = scope_of(body)
        api_call(scope).action = "balance"
        Observability._finish(scope, 200, 0.001)
        return None

    async def place(body: bytes) -> object:
        found = await read_params(request_of(app, body))
        customer = await accounts.authenticate(db, found.get("key"))
        assert customer is not None
        try:
            return await orders.place_order(db, customer.id, found)
        except Refused as refused:  # add-broke: refused, as the endpoint answers it
            return refused.message

    reads = {"read inline": action_read, "read on thread": thread_read}
    return {
        "smmpanel": lambda body: call_asgi(app, body),
        "no middleware": lambda body: call_asgi(app.router, body, routed),
        "endpoint": lambda body: v2.endpoint(request_of(app, body)),
        "read params": params,
        "authenticate": authenticate,
        "rate limits": limits_check,
        **({"place order": place} if scenario in WRITES else reads),
        "log line + metrics": finish,
        **{name: (lambda body, limit=limit: call_asgi(limit, body)) for name, limit in limits.items()},
    }


async def cpu_per_call(call: Call, bodies: Sequence[bytes], calls: int) -> float:
    """Microseconds of CPU per call over ``calls`` calls, cycling through ``bodies``."""
    started = time.process_time()
    for n in range(calls):
        await call(bodies[n % len(bodies)])
    return (time.process_time() - started) * 1e6 / calls


async def measure(
    url: str, data: api.Dataset, config: api.Config, scenarios: Sequence[str], calls: int, rounds: int
) -> None:
    limits = {"bare": bare.BareApp(url, 10), "bare-sqlite3": bare.BareApp(url, 1, "sqlite3")}
    limits["bare"].db = await bare.Sqlite.open(url, 10)
    limits["bare-sqlite3"].db = await bare.InlineSqlite.open(url, 1)
    try:
        async with smmpanel_app(url) as app:
            chosen = {s.name: s for s in api.scenarios(data, config, scenarios)}
            print(f"# CPU µs per call, best of {rounds} rounds of {calls}; {data.loaded:,} orders", flush=True)
            results: dict[str, dict[str, float]] = {}
            for scenario in scenarios:
                pieces = variants(app, limits, data.bench_user, data.bench_orders, scenario)
                bodies = [body.encode() for body in chosen[scenario].bodies]
                for call in pieces.values():  # warm every cache first
                    await cpu_per_call(call, bodies, max(10, calls // 10))
                for _ in range(rounds):
                    for name, call in pieces.items():
                        took = await cpu_per_call(call, bodies, calls)
                        results.setdefault(name, {})
                        results[name][scenario] = min(took, results[name].get(scenario, took))
            rows = [[name, *(_cell(results[name].get(s)) for s in scenarios)] for name in results]
            for limit in limits:
                ratios = (_ratio(results[limit].get(s), results["smmpanel"].get(s)) for s in scenarios)
                rows.append([f"CPU ratio {limit} / smmpanel", *ratios])
            print(api.table(["piece", *scenarios], rows), flush=True)
            print(f"# inline reads refused (sent to the thread): {app.state.db.direct.inline.refused}", flush=True)
    finally:
        for limit in limits.values():
            assert limit.db is not None
            await limit.db.close()


def _cell(micros: float | None) -> str:
    return "–" if micros is None else f"{micros:.1f}"


def _ratio(limit: float | None, panel: float | None) -> str:
    return "–" if limit is None or not panel else f"{limit / panel:.2f}"


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="smmpanel-pieces-"))
    config = api.Config(customers=args.customers, catalog=args.catalog)
    url = f"sqlite:///{workdir / 'pieces.db'}"
    data = api.Dataset(url, "sqlite")
    await api.prepare(data, config)
    await api.grow(data, args.orders)
    await measure(url, data, config, args.scenarios.split(","), args.calls, args.rounds)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pieces", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"of {', '.join((*SCENARIOS, *WRITES))}")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--catalog", type=int, default=50)
    parser.add_argument("--calls", type=int, default=2000, help="per round and piece")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    # The log line is written as the server writes it (JSON, to a file here: the benchmark's servers
    # log to one too), and this script's own errors still reach the terminal.
    terminal, sys.stderr = sys.stderr, tempfile.TemporaryFile("w")  # noqa: SIM115 (lives as long as the run)
    try:
        configure_logging("json", "INFO")
    finally:
        sys.stderr = terminal
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
