"""Order engine benchmark: how fast ``smmpanel worker`` processes sync and forward a large queue.

Each run gets a fresh database holding N orders (``benchmarks.loader``) and a fresh
simulated provider in its own process (``benchmarks.provider``), then starts 1..k
``python -m smmpanel worker`` processes and polls the database until every order has
been handled once. Scenarios:

``sync``            N forwarded orders, each due; the provider reports each one moved on
                    (Pending → In progress), so every check writes the order.
``sync-unchanged``  the same, but the provider reports what the panel already has: checks only.
``forward``         N queued orders, until every one is sent (the engine also checks each once
                    right after sending it, as it always does).

With ``--levels``, one database instead grows to each count of **finished** orders in turn
(Completed, spread over ``--customers`` customers and ``--providers`` providers and over two
years, each with its charge in the ledger, with refills, payments, tickets and audit entries
in proportion: what a panel that has run for a while holds, ``benchmarks.loader``), and
at each level every scenario handles the same queue of ``--queue`` orders (``run_levels``).
The summary then gives, per scenario and level, seconds and CPU per order of the queue and
their ratio to the first level: an engine pass must cost no more at 10,000,000 orders than at
10,000. ``--explain`` (PostgreSQL) prints at each level the plan of every statement of every
operator page and of an engine pass with work of every kind due (``benchmarks.explain``).

Seconds run from starting the workers (so they include ~1 s of process start-up,
shown as "start") to the last order handled. Only loopback is used; every process
started is stopped on the way out. ``--baseline DIR`` runs each case first with the
workers of another checkout (say ``git archive main | tar -x -C DIR``), then with this
one's, back to back on the same machine: the before/after of a change in one run.

    .venv/bin/python -m benchmarks.engine --backend postgres --orders 100000 --workers 1,2,3
    .venv/bin/python -m benchmarks.engine --backend postgres --levels 10000,1000000,10000000 --explain
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks import explain
from benchmarks.engine_report import LEVEL_COLUMNS, Result, aligned, level_rows, machine, row, table, waits
from benchmarks.loader import (
    OrderSpec,
    Panel,
    create_customers,
    create_panel,
    create_providers,
    empty,
    load_orders,
    load_records,
    migrate,
)
from benchmarks.provider import API_KEY
from smmpanel.clock import utcnow
from smmpanel.db.dispatch_repositories import ATTENTION, CLAIMED, FAILED, QUEUED, SENDING
from smmpanel.db.engine import create_engine
from smmpanel.db.tables import ledger_entries, orders, users
from smmpanel.domain.orders import OrderStatus
from smmpanel.money import per_thousand_charge
from smmpanel.providers.simulator import CATALOG

SCENARIOS = ("sync", "sync-unchanged", "forward")
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
QUANTITY = 1000
START_COUNT = 1234
POLL_SECONDS = 0.25
READY_SECONDS = 30.0
STOP_SECONDS = 10.0
ROOT = Path(__file__).resolve().parent.parent
FINISHED_UPSTREAM_IDS = 1_000_000_000
"""The finished orders' provider order ids start here, far above those the simulator gives out."""
HISTORY = timedelta(days=730)
"""The finished orders were placed over this long."""
FINISHED_LINK = "https://instagram.com/p/engine"
"""Each finished order's link is this followed by its id."""
EXPLAIN_WORK = 10
"""Orders of each kind made due for the explained engine pass (``benchmarks.explain.seed_engine_work``)."""
WORKER_BACKENDS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    " AND backend_type = 'client backend'"
)
"""The server processes serving the workers: autovacuum's, which also name the database, left out."""
WAITS = (
    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
)
"""What each worker connection's server process is doing (sampled at every poll): lock waits show here."""


@dataclass(frozen=True)
class Config:
    backend: str = "sqlite"
    orders: int = 100_000
    workers: tuple[int, ...] = (1,)
    scenarios: tuple[str, ...] = SCENARIOS
    sync_batch: int = 2000
    forward_batch: int = 100
    """Larger batches starve the worker's 4 database connections: a send waiting 30 s for one fails
    the whole pass, and its claimed orders end on the attention list (see RESULTS.md)."""
    forward_orders: int | None = None
    """Orders in the forward scenario; default ``orders``."""
    concurrency: int = 8
    timeout: float = 600.0
    postgres_url: str = POSTGRES_ADMIN_URL
    quiet: bool = False
    profile: Path | None = None
    """Record each worker with py-spy (collapsed stacks) into this directory."""
    levels: tuple[int, ...] = ()
    """Finished orders in the table at each level (``run_levels``); empty: the runs of ``orders`` work orders."""
    queue: int = 5_000
    """With ``levels``: the orders each scenario handles at each level."""
    customers: int = 1_000
    providers: int = 10
    explain: bool = False
    database_prefix: str = "smmpanel_bench"
    """The PostgreSQL scratch database is named this, ``_`` and a random suffix."""
    keep: bool = False
    """Leave the PostgreSQL scratch database in place (its URL is printed): to explain it again after a fix."""
    engine_interval: float = 1.0
    """SMMPANEL_ENGINE_INTERVAL: the panel's default. The order loop wakes as soon as a lane has
    room, so the interval only paces the rarer passes (and the mail and check loops)."""
    baseline: Path | None = None
    """Another checkout whose workers run each case first (``version`` "before")."""


# --- databases -------------------------------------------------------------------------


class Scratch:
    """Where the runs' databases live: SQLite files in a temp dir, or one scratch PostgreSQL database."""

    def __init__(self, config: Config, directory: Path) -> None:
        self.config = config
        self.directory = directory
        self.runs = 0
        self.pg_name: str | None = None
        self.url = ""

    async def open(self) -> None:
        if self.config.backend == "sqlite":
            self.url = f"sqlite:///{self.directory / 'template.db'}"
        else:
            self.pg_name = f"{self.config.database_prefix}_{secrets.token_hex(4)}"
            await _pg_admin(self.config.postgres_url, f'CREATE DATABASE "{self.pg_name}"')
            self.url = make_url(self.config.postgres_url).set(database=self.pg_name).render_as_string(False)
        await asyncio.to_thread(migrate, self.url)

    async def fresh(self) -> str:
        """An empty, migrated database for the next run."""
        self.runs += 1
        if self.config.backend == "sqlite":
            target = self.directory / f"run{self.runs}.db"
            shutil.copyfile(self.directory / "template.db", target)
            return f"sqlite:///{target}"
        await empty(self.url)
        return self.url

    async def close(self) -> None:
        if self.pg_name is not None and self.config.keep:
            print(f"# kept {self.url}: drop it when done", flush=True)
        elif self.pg_name is not None:
            await _pg_admin(self.config.postgres_url, f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


async def _pg_admin(admin_url: str, statement: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


# --- processes -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    def tail(self, lines: int = 15) -> str:
        if not self.log.closed:
            self.log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def _start(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> Process:
    log_path = workdir / f"{name}.log"
    log = log_path.open("wb")
    popen = subprocess.Popen(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Process(name, popen, log_path, log)


def _stop(processes: list[Process]) -> None:
    """SIGINT (a worker finishes its pass, py-spy writes its profile), then SIGKILL what is still there."""
    for process in processes:
        if process.popen.poll() is None:
            process.popen.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        try:
            process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait(timeout=STOP_SECONDS)
        process.log.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (Linux ``/proc``); 0 where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine, all cores, from ``/proc/stat``."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _env(extra: dict[str, str], root: Path = ROOT) -> dict[str, str]:
    """The environment of a process started from the checkout at ``root``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMMPANEL_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return {**env, **extra}


async def _wait_ready(client: httpx.AsyncClient, simulator: Process) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if simulator.popen.poll() is not None:
            raise RuntimeError(f"the simulator exited:\n{simulator.tail()}")
        try:
            if (await client.get("/_sim/stats")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the simulator did not answer within {READY_SECONDS:.0f} s:\n{simulator.tail()}")


# --- one run ---------------------------------------------------------------------------


def _spec(scenario: str, count: int) -> tuple[OrderSpec, list[str]]:
    """The panel's orders, and the simulator's preload options, for a scenario."""
    if scenario == "forward":
        return OrderSpec(count=count, dispatch="queued"), []
    upstream = ["--preload", str(count), "--quantity", str(QUANTITY), "--status", OrderStatus.IN_PROGRESS.value]
    upstream += ["--start-count", str(START_COUNT), "--remains", str(QUANTITY // 2)]
    if scenario == "sync":  # the panel still thinks Pending: every answer is news
        return OrderSpec(count=count, dispatch="sent", quantity=QUANTITY), upstream
    same = OrderSpec(  # the panel already has exactly what the provider will say
        count=count,
        dispatch="sent",
        quantity=QUANTITY,
        status=OrderStatus.IN_PROGRESS,
        remains=QUANTITY // 2,
        start_count=START_COUNT,
        upstream_status=OrderStatus.IN_PROGRESS,
        upstream_charge=per_thousand_charge(CATALOG[0].rate, QUANTITY),
    )
    return same, upstream


async def _progress(
    conn: Any, scenario: str, cutoff: Any, status_ids: int, ids: range | None = None
) -> tuple[int, int]:
    """(orders handled, orders in trouble) as the database and the simulator tell it; only among
    ``ids`` when given (a walk of the primary key, not a count over the whole table)."""
    count = sa.select(sa.func.count()).select_from(orders)
    if ids is not None:
        count = count.where(orders.c.id.between(ids[0], ids[-1]))
    trouble = (await conn.execute(count.where(orders.c.dispatch.in_([ATTENTION, FAILED])))).scalar_one()
    if scenario == "forward":
        waiting = (await conn.execute(count.where(orders.c.dispatch.in_([QUEUED, CLAIMED, SENDING])))).scalar_one()
        total = (await conn.execute(count)).scalar_one()
        return total - waiting - trouble, trouble
    if scenario == "sync":
        written = (await conn.execute(count.where(orders.c.synced_at.is_not(None)))).scalar_one()
        return min(written, status_ids), trouble
    claimed = (await conn.execute(count.where(orders.c.next_attempt_at > cutoff))).scalar_one()
    return min(claimed, status_ids), trouble


def _doing(state: str | None, kind: str | None, event: str | None) -> str:
    """One sample of a server process: idle, running (on a CPU, or waiting for one), or its wait event."""
    if state != "active":
        return state or "unknown"
    return f"{kind}:{event}" if kind else "running"


async def _ledger_ok(conn: Any) -> bool:
    sums = sa.select(sa.func.coalesce(sa.func.sum(ledger_entries.c.amount), 0)).scalar_subquery()
    balance = sa.select(sa.func.coalesce(sa.func.sum(users.c.balance), 0)).scalar_subquery()
    return bool((await conn.execute(sa.select(sums == balance))).scalar_one())


async def _cpu_now(config: Config, engine: Any, processes: list[Process]) -> dict[str, float]:
    """CPU seconds so far of the workers, the simulator (``processes[0]``) and, on PostgreSQL,
    the server processes serving every connection but the benchmark's own."""
    cpu = {
        "workers": sum(_cpu_seconds(process.popen.pid) for process in processes[1:]),
        "simulator": _cpu_seconds(processes[0].popen.pid),
    }
    if config.backend == "postgres":
        async with engine.connect() as conn:
            backends = await conn.execute(sa.text(WORKER_BACKENDS))
            cpu["postgres"] = sum(_cpu_seconds(int(pid)) for pid in backends.scalars())
    return cpu


async def run_one(
    config: Config, scratch: Scratch, scenario: str, workers: int, workdir: Path, baseline: bool = False
) -> Result:
    """One case; with ``baseline`` the workers are those of ``config.baseline``."""
    count = config.orders if scenario != "forward" or config.forward_orders is None else config.forward_orders
    result = Result(config.backend, scenario, workers, count, "before" if baseline else "this")
    url = await scratch.fresh()
    port = _free_port()
    spec, preload = _spec(scenario, count)
    processes: list[Process] = []
    engine = create_engine(url, pool_size=1)
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", params={"key": API_KEY}, timeout=30)
    try:
        argv = [sys.executable, "-m", "benchmarks.provider", "--port", str(port), *preload]
        simulator = _start(f"simulator-{scratch.runs}", argv, _env({}), workdir)
        processes.append(simulator)
        panel = await create_panel(url, provider_url=f"http://127.0.0.1:{port}/api/v2", provider_key=API_KEY)
        await load_orders(url, panel, spec)
        await _wait_ready(client, simulator)
        await _drive(config, url, engine, client, processes, result, workdir, f"{scratch.runs}")
    finally:
        _stop(processes)
        await client.aclose()
        await engine.dispose()
    return result


async def _drive(
    config: Config,
    url: str,
    engine: Any,
    client: httpx.AsyncClient,
    processes: list[Process],
    result: Result,
    workdir: Path,
    tag: str,
    ids: range | None = None,
) -> None:
    """Start ``result.workers`` workers beside the simulator (``processes[0]``), until they have handled
    ``result.orders`` orders (those of ``ids`` only, when given) or the time is up; then stop them and
    fill in ``result``. The simulator's counts are taken from now on, so it may have served before."""
    scenario, simulator = result.scenario, processes[0]
    cutoff = utcnow() + timedelta(minutes=1)
    env = _env(
        {
            "SMMPANEL_DATABASE_URL": url,
            "SMMPANEL_SYNC_INTERVAL": "86400",  # each order is checked once, then not for a day
            "SMMPANEL_SYNC_BATCH": str(config.sync_batch),
            "SMMPANEL_FORWARD_BATCH": str(config.forward_batch),
            "SMMPANEL_PROVIDER_CONCURRENCY": str(config.concurrency),
            "SMMPANEL_ENGINE_INTERVAL": str(config.engine_interval),
        },
        config.baseline if result.version == "before" and config.baseline is not None else ROOT,
    )
    before = (await client.get("/_sim/stats")).json()
    started, ticks, result.load = time.monotonic(), _machine_ticks(), os.getloadavg()[0]
    sim_cpu = _cpu_seconds(simulator.popen.pid)
    for number in range(1, result.workers + 1):
        argv = [sys.executable, "-m", "smmpanel", "worker"]
        if config.profile is not None:
            out = config.profile / f"{result.version}-{config.backend}-{scenario}-{result.workers}w-{tag}-{number}.txt"
            spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
            argv = [spy, "record", "--gil", "--format", "raw", "--rate", "250", "--output", str(out), "--", *argv]
        processes.append(_start(f"worker-{tag}-{number}", argv, env, workdir))
    while True:
        await asyncio.sleep(POLL_SECONDS)
        now = time.monotonic()
        for process in processes:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited ({process.popen.returncode}):\n{process.tail()}")
        stats = (await client.get("/_sim/stats")).json()
        status_ids = int(stats["status_ids"]) - int(before["status_ids"])
        async with engine.connect() as conn:
            result.done, result.errors = await _progress(conn, scenario, cutoff, status_ids, ids)
            if config.backend == "postgres":
                for state, kind, event in await conn.execute(sa.text(WAITS)):
                    result.waits[_doing(state, kind, event)] += 1
        result.seconds = now - started
        if result.done and result.startup is None:
            result.startup, result.warm_done = result.seconds, result.done
            result.warm_cpu = await _cpu_now(config, engine, processes)
        if result.done + result.errors >= result.orders:
            break
        if result.seconds > config.timeout:
            result.timed_out = True
            break
    result.cpu, result.load_end = await _cpu_now(config, engine, processes), os.getloadavg()[0]
    result.cpu["simulator"] -= sim_cpu
    if result.warm_cpu:
        result.warm_cpu["simulator"] -= sim_cpu
    calls = (await client.get("/_sim/stats")).json()["calls"]
    result.calls = {k: int(v) - int(before["calls"].get(k, 0)) for k, v in calls.items() if v != before["calls"].get(k)}
    busy, total = (end - start for end, start in zip(_machine_ticks(), ticks, strict=True))
    result.machine_busy = busy / total if total else 0.0
    _stop(processes[1:])  # the workers: stopped before the ledger is read
    logs = [process.tail(10**6) for process in processes[1:]]
    result.failed_passes = sum(text.count("engine pass failed") for text in logs)
    result.failed_checks = sum(text.count("status check failed") for text in logs)
    if result.errors and not config.quiet:
        async with engine.connect() as conn:
            trouble = orders.c.dispatch.in_([ATTENTION, FAILED])
            if ids is not None:
                trouble = sa.and_(trouble, orders.c.id.between(ids[0], ids[-1]))
            reasons = await conn.execute(
                sa.select(orders.c.attention_reason, sa.func.count()).where(trouble).group_by(orders.c.attention_reason)
            )
            for reason, number in reasons:
                print(f"--- {number} in attention: {reason}", file=sys.stderr)
    if (result.errors or result.timed_out) and not config.quiet:
        for process in processes[1:]:
            print(f"--- {process.name} (last lines)\n{process.tail()}", file=sys.stderr)
    async with engine.connect() as conn:
        result.ledger_ok = await _ledger_ok(conn)


# --- levels: the same work beside a growing table --------------------------------------


def _finished(count: int, loaded: int, customers: list[int], upstreams: list[int]) -> OrderSpec:
    """``count`` finished orders after the ``loaded`` ones: Completed, forwarded, each its own link."""
    return OrderSpec(
        count=count,
        dispatch="done",
        status=OrderStatus.COMPLETED,
        quantity=QUANTITY,
        remains=0,
        upstream_status=OrderStatus.COMPLETED,
        upstream_charge=per_thousand_charge(CATALOG[0].rate, QUANTITY),
        first_provider_order_id=FINISHED_UPSTREAM_IDS + loaded,
        user_ids=customers,
        provider_ids=upstreams,
        spread=HISTORY,
        link=FINISHED_LINK,
        numbered_links=True,
    )


async def _settle(config: Config, url: str) -> None:
    """PostgreSQL: vacuum and checkpoint after a bulk load, as autovacuum soon would (else the runs race it)."""
    if config.backend == "postgres":
        await _pg_admin(url, "VACUUM (ANALYZE) orders, ledger_entries")
        await _pg_admin(url, "CHECKPOINT")


async def _explain(url: str, panel: Panel, first_upstream_id: int, middle: int) -> str:
    """``benchmarks.explain``'s report, with a little work of every kind due for its engine pass; the
    searches look for order ``middle`` (a finished one) by a part of its link, its link, its customer
    and its upstream id."""
    await explain.seed_engine_work(url, panel, first_upstream_id, EXPLAIN_WORK)
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            query = sa.select(users.c.username, orders.c.link, orders.c.provider_order_id).join(
                orders, orders.c.user_id == users.c.id
            )
            customer, link, upstream = (await conn.execute(query.where(orders.c.id == middle))).one()
    finally:
        await engine.dispose()
    due = "engine-pass (every kind due)"
    return await explain.report(url, link.rsplit("/", 1)[-1], customer, upstream, link, engine=due)


async def run_levels(config: Config) -> list[Result]:
    """At each of ``config.levels``: grow the table to that many finished orders, then handle a queue
    of ``config.queue`` orders per scenario with ``config.workers[0]`` workers. One simulator serves
    every run (its counts are taken per run), preloaded with every order the sync runs ask about."""
    directory = Path(tempfile.mkdtemp(prefix="smmpanel-bench-"))
    scratch = Scratch(config, directory)
    syncs = sum(scenario != "forward" for scenario in config.scenarios)
    per_level = syncs * config.queue + (3 * EXPLAIN_WORK if config.explain else 0)
    port = _free_port()
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", params={"key": API_KEY}, timeout=30)
    simulator: Process | None = None
    results: list[Result] = []
    try:
        await scratch.open()
        url = scratch.url
        argv = [sys.executable, "-m", "benchmarks.provider", "--port", str(port)]
        simulator = _start("simulator", [*argv, *_spec("sync", per_level * len(config.levels))[1]], _env({}), directory)
        provider_url = f"http://127.0.0.1:{port}/api/v2"
        panel = await create_panel(url, provider_url=provider_url, provider_key=API_KEY)
        customers = [panel.user_id, *(user for user, _ in await create_customers(url, config.customers - 1))]
        upstreams = [
            panel.provider_id,
            *await create_providers(url, config.providers - 1, url=provider_url, key=API_KEY),
        ]
        await _wait_ready(client, simulator)
        loaded, next_upstream = 0, 1
        for level in config.levels:
            began = time.monotonic()
            finished = await load_orders(url, panel, _finished(level - loaded, loaded, customers, upstreams))
            await load_records(url, finished)
            await _settle(config, url)
            loaded = level
            if not config.quiet:
                seconds = time.monotonic() - began
                print(f"# {config.backend}: {level:,} finished orders (loaded in {seconds:.0f} s)", flush=True)
            for scenario in config.scenarios:
                spec = _spec(scenario, config.queue)[0]
                if scenario != "forward":
                    spec, next_upstream = (
                        replace(spec, first_provider_order_id=next_upstream),
                        next_upstream + config.queue,
                    )
                ids = await load_orders(url, panel, spec, analyze=False)
                result = Result(config.backend, scenario, config.workers[0], config.queue, level=level)
                running = [simulator]
                engine = create_engine(url, pool_size=1)
                try:
                    await _drive(config, url, engine, client, running, result, directory, f"{level}-{scenario}", ids)
                finally:
                    _stop(running[1:])
                    await engine.dispose()
                results.append(result)
                if not config.quiet:
                    print(" | ".join(row(result)), flush=True)
            if config.explain:
                print(await _explain(url, panel, next_upstream, finished[len(finished) // 2]), flush=True)
                next_upstream += 3 * EXPLAIN_WORK
    finally:
        if simulator is not None:
            _stop([simulator])
        await client.aclose()
        await scratch.close()
        shutil.rmtree(directory, ignore_errors=True)
    return results


async def run(config: Config) -> list[Result]:
    """Every scenario with every worker count; SQLite runs one worker only, as the panel does."""
    counts = [n for n in config.workers if config.backend == "postgres" or n == 1]
    results: list[Result] = []
    directory = Path(tempfile.mkdtemp(prefix="smmpanel-bench-"))
    scratch = Scratch(config, directory)
    try:
        await scratch.open()
        for scenario in config.scenarios:
            for workers in counts:
                for baseline in (True, False) if config.baseline is not None else (False,):
                    result = await run_one(config, scratch, scenario, workers, directory, baseline)
                    results.append(result)
                    if not config.quiet:
                        print(" | ".join(row(result)), flush=True)
                        if result.waits:
                            print(f"    worker connections, sampled: {waits(result)}", flush=True)
    finally:
        await scratch.close()
        shutil.rmtree(directory, ignore_errors=True)
    return results


def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--workers", default="1", help="worker process counts to try, e.g. 1,2,3")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"some of {', '.join(SCENARIOS)}")
    parser.add_argument("--forward-orders", type=int, help="orders in the forward scenario (default: --orders)")
    parser.add_argument("--sync-batch", type=int, default=Config.sync_batch, help="SMMPANEL_SYNC_BATCH")
    parser.add_argument("--forward-batch", type=int, default=Config.forward_batch, help="SMMPANEL_FORWARD_BATCH")
    parser.add_argument("--concurrency", type=int, default=Config.concurrency, help="SMMPANEL_PROVIDER_CONCURRENCY")
    parser.add_argument("--timeout", type=float, default=Config.timeout, help="seconds allowed for one run")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL, help="a server to create a scratch db on")
    parser.add_argument("--quiet", action="store_true", help="print only the final table")
    parser.add_argument("--profile", type=Path, help="record the workers with py-spy into this directory")
    parser.add_argument("--levels", default="", help="finished orders in the table, e.g. 10000,1000000,10000000")
    parser.add_argument("--queue", type=int, default=Config.queue, help="with --levels: orders per scenario")
    parser.add_argument("--customers", type=int, default=Config.customers, help="with --levels: their owners")
    parser.add_argument("--providers", type=int, default=Config.providers, help="with --levels: their providers")
    parser.add_argument("--explain", action="store_true", help="with --levels: explain every page and engine pass")
    parser.add_argument("--database-prefix", default=Config.database_prefix, help="of the PostgreSQL scratch db")
    parser.add_argument("--keep-database", action="store_true", help="leave the PostgreSQL scratch db in place")
    parser.add_argument(
        "--engine-interval", type=float, default=Config.engine_interval, help="SMMPANEL_ENGINE_INTERVAL"
    )
    parser.add_argument("--baseline", type=Path, help="another checkout: its workers run each case first")
    args = parser.parse_args(argv)
    if args.baseline is not None and not (args.baseline / "smmpanel" / "__main__.py").is_file():
        parser.error(f"--baseline {args.baseline}: not a checkout of smmpanel")
    levels = tuple(int(n) for n in args.levels.split(",") if n.strip())
    if levels and (levels != tuple(sorted(set(levels))) or levels[0] <= 0):
        parser.error("--levels: growing counts of orders, e.g. 10000,1000000")
    if levels and (args.queue <= 0 or args.customers <= 0 or args.providers <= 0):
        parser.error("--queue, --customers and --providers must be positive")
    if args.explain and not levels:
        parser.error("--explain needs --levels")
    scenarios = tuple(name.strip() for name in args.scenarios.split(",") if name.strip())
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    host = make_url(args.postgres_url).host
    if args.backend == "postgres" and host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("benchmarks use a loopback PostgreSQL only")
    return Config(
        backend=args.backend,
        orders=args.orders,
        workers=tuple(int(n) for n in args.workers.split(",")),
        scenarios=scenarios,
        sync_batch=args.sync_batch,
        forward_batch=args.forward_batch,
        forward_orders=args.forward_orders,
        concurrency=args.concurrency,
        timeout=args.timeout,
        postgres_url=args.postgres_url,
        quiet=args.quiet,
        profile=args.profile.resolve() if args.profile else None,
        levels=levels,
        queue=args.queue,
        customers=args.customers,
        providers=args.providers,
        explain=args.explain,
        database_prefix=args.database_prefix,
        keep=args.keep_database,
        engine_interval=args.engine_interval,
        baseline=args.baseline.resolve() if args.baseline else None,
    )


def main(argv: Sequence[str] | None = None) -> list[Result]:
    config = parse_args(argv)
    if not config.quiet:
        print(machine(), flush=True)
    if config.levels:
        results = asyncio.run(run_levels(config))
        print(aligned(LEVEL_COLUMNS, level_rows(results)), flush=True)
        return results
    results = asyncio.run(run(config))
    print(table(results), flush=True)
    return results


if __name__ == "__main__":
    main()
