"""Sustained ``add``: does the rate hold for minutes without a VACUUM? (issue 17)

One customer (then 10, then 100) places orders through API v2 for ``--minutes`` minutes
against ``serve --workers N --no-engine`` on PostgreSQL (and ``serve`` on SQLite), driven by
``wrk`` in back-to-back ``--slice``-second runs, so each slice prints its own orders/s and
p50/p99: a slow-down over time shows as falling slices. Meanwhile one client asks for the
first customer's ``balance`` and ``status`` of ten of its orders, in turn (the lighter load
a reseller's own polling makes), and prints their p50/p99 per slice; after the load, ``wrk``
measures both on their own.

No VACUUM runs during the load (only the one after the initial bulk load, as in
``benchmarks.api``). On PostgreSQL it runs once with autovacuum on (as an operator's server
has it) and once with it off: the benchmark sets ``autovacuum`` with ``ALTER SYSTEM`` for its
run and puts the previous setting back at the end, also on Ctrl-C. Per slice it also prints
what PostgreSQL says of the hot tables (``pg_stat_user_tables``: updates, HOT updates, dead
tuples, autovacuums; the ``users`` heap and index sizes) and the wait events sampled from
``pg_stat_activity`` every 0.2 s.

    .venv/bin/python -m benchmarks.decay                       # 3 minutes per run, 9 runs
    .venv/bin/python -m benchmarks.decay --minutes 6 --loads 1 --autovacuum on
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from benchmarks import api
from benchmarks.loader import create_customers

SLICE_SECONDS = 10
SAMPLE_SECONDS = 0.2
HOT_TABLES = ("users", "orders", "ledger_entries")


@dataclass(frozen=True)
class Config:
    backends: tuple[str, ...] = ("postgres", "sqlite")
    minutes: float = 3.0
    slice_seconds: int = SLICE_SECONDS
    loads: tuple[int, ...] = (1, 10, 100)
    """How many customers place the orders, in turn."""
    autovacuum: tuple[str, ...] = ("on", "off")
    orders: int = 10_000
    concurrency: int = 16
    workers: int = 2
    after_seconds: int = 10
    warmup_seconds: int = 5
    """Load before the first slice, not counted: the server's pools and statement caches fill (a
    panel in production is warm); its figures are printed on a line of their own."""
    postgres_url: str = api.POSTGRES_ADMIN_URL


@dataclass
class Slice:
    """One ``--slice`` seconds of the add load, and what the light poller and PostgreSQL saw meanwhile."""

    number: int
    orders: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    bad: int = 0
    poll: dict[str, tuple[int, float, float]] = field(default_factory=dict)
    """``balance``/``status``: (answers, p50 ms, p99 ms)."""
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    server: dict[str, int] = field(default_factory=dict)
    """PostgreSQL's checkpoints, WAL bytes and full-page images during the slice."""
    waits: dict[str, int] = field(default_factory=dict)
    load: str = ""


@dataclass
class Result:
    backend: str
    autovacuum: str
    customers: int
    slices: list[Slice] = field(default_factory=list)
    after: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    """``balance``/``status`` by wrk after the load: (req/s, p50 ms, p99 ms)."""


def uptime_load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 1)[0]


# --- PostgreSQL's own view ---------------------------------------------------------------------


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _fetch(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(_dsn(url), timeout=10)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


def set_autovacuum(admin_url: str, value: str) -> None:
    """``ALTER SYSTEM SET autovacuum`` and a reload: the whole server's, for this benchmark's run only."""
    setting = "on" if value == "on" else "off"
    asyncio.run(_fetch(admin_url, f"ALTER SYSTEM SET autovacuum = {setting}"))
    asyncio.run(_fetch(admin_url, "SELECT pg_reload_conf()"))
    time.sleep(0.5)  # the postmaster and the launcher read it on SIGHUP


@contextlib.contextmanager
def autovacuum_restored(admin_url: str) -> Iterator[None]:
    """Whatever the block sets ``autovacuum`` to, the server's previous setting is back after it
    (ALTER SYSTEM RESET when it came from a configuration file, not from ALTER SYSTEM), also on Ctrl-C."""
    [row] = asyncio.run(
        _fetch(admin_url, "SELECT setting, coalesce(sourcefile, '') AS file FROM pg_settings WHERE name = 'autovacuum'")
    )
    previous, by_alter_system = str(row["setting"]), str(row["file"]).endswith("postgresql.auto.conf")
    try:
        yield
    finally:
        restore = f"ALTER SYSTEM SET autovacuum = {previous}" if by_alter_system else "ALTER SYSTEM RESET autovacuum"
        asyncio.run(_fetch(admin_url, restore))
        asyncio.run(_fetch(admin_url, "SELECT pg_reload_conf()"))
        print(f"# autovacuum put back to {previous}", flush=True)


TABLE_STATS = """
SELECT relname, n_tup_upd, n_tup_hot_upd, n_dead_tup, n_live_tup, autovacuum_count, autoanalyze_count,
       pg_relation_size(relid) AS heap_bytes, pg_indexes_size(relid) AS index_bytes
FROM pg_stat_user_tables WHERE relname = ANY($1::text[])
"""
SERVER_STATS = """
SELECT (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) AS checkpoints,
       wal_bytes::bigint AS wal_bytes, wal_fpi AS wal_fpi FROM pg_stat_wal
"""
"""The whole server's checkpoints and WAL (cumulative): a checkpoint is followed by full-page images
of every page first touched after it, the WAL volume that makes commits wait (``LWLock:WALWrite``)."""
WAITS = """
SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait FROM pg_stat_activity
WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
"""


class Watcher:
    """Samples ``pg_stat_activity`` wait events of the scratch database while the load runs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.waits: collections.Counter[str] = collections.Counter()
        self.seen: dict[str, int] = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    async def _run(self) -> None:
        conn = await asyncpg.connect(_dsn(self.url), timeout=10)
        try:
            while not self.stop.wait(SAMPLE_SECONDS):
                rows = await conn.fetch(WAITS)
                with self.lock:
                    self.waits.update(str(row["wait"]) for row in rows)
        finally:
            await conn.close()

    def take(self) -> dict[str, int]:
        """The wait events counted since the last call, most frequent first."""
        with self.lock:
            taken, self.waits = dict(self.waits.most_common(6)), collections.Counter()
        return taken

    def tables(self) -> dict[str, dict[str, int]]:
        rows = asyncio.run(_fetch(self.url, TABLE_STATS, list(HOT_TABLES)))
        return {str(row["relname"]): {k: int(v) for k, v in row.items() if k != "relname"} for row in rows}

    def server(self) -> dict[str, int]:
        """Checkpoints, WAL bytes and full-page images since the previous call (the first: since the start)."""
        [row] = asyncio.run(_fetch(self.url, SERVER_STATS))
        now = {name: int(value) for name, value in row.items()}
        previous, self.seen = self.seen or now, now
        return {name: now[name] - previous[name] for name in now}


# --- load --------------------------------------------------------------------------------------


class Poller:
    """One client asking for ``balance`` and ``status`` in turn, 20 times a second at most."""

    def __init__(self, url: str, key: str, order_ids: Sequence[int]) -> None:
        self.url = url
        self.bodies = {
            "balance": {"key": key, "action": "balance"},
            "status": {"key": key, "action": "status", "orders": ",".join(map(str, order_ids))},
        }
        self.seen: dict[str, list[float]] = {name: [] for name in self.bodies}
        self.errors = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Poller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                for name, body in self.bodies.items():
                    started = time.perf_counter()
                    answer = client.post(self.url, data=body)
                    took = (time.perf_counter() - started) * 1000
                    with self.lock:
                        self.seen[name].append(took)
                        self.errors += answer.status_code != 200 or '"error"' in answer.text
                self.stop.wait(0.05)

    def take(self) -> dict[str, tuple[int, float, float]]:
        with self.lock:
            taken, self.seen = self.seen, {name: [] for name in self.bodies}
        return {name: _percentiles(values) for name, values in taken.items()}


def _percentiles(values: list[float]) -> tuple[int, float, float]:
    if len(values) < 2:
        return (len(values), values[0] if values else 0.0, values[0] if values else 0.0)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (len(values), cuts[49], cuts[98])


def wrk_for(server: api.Server, traffic: api.Traffic, seconds: int, concurrency: int, workdir: Path) -> dict[str, Any]:
    """``wrk`` for ``seconds``; its figures (the harness's Lua script, with no request limit)."""
    script = workdir / "decay.lua"
    script.write_text(api.lua_script(traffic, 10**12))
    argv = [api.ensure_wrk(), "-t2", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
    done = subprocess.run([*argv, server.url], capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stdout + done.stderr)[-800:]}")


def add_traffic(keys: Sequence[str], service_id: int) -> api.Traffic:
    """Orders of every customer in ``keys`` in turn, each with a link of its own; every one must succeed."""
    bodies = [
        f"key={key}&action=add&service={service_id}&quantity=1000&link=https://instagram.com/p/{n}"
        for n in range(100)
        for key in keys
    ]
    return api.Scenario("add", bodies, None, 0).traffic()


# --- the run -----------------------------------------------------------------------------------


async def dataset(url: str, backend: str, config: Config, customers: int) -> tuple[api.Dataset, list[str]]:
    """The harness's data (``--orders`` orders, 1 % of them the first customer's), and ``customers`` keys
    with a huge balance each: the first is the benchmark customer's."""
    data = api.Dataset(url, backend)
    base = api.Config(customers=max(customers + 2, 20), catalog=20)
    await api.prepare(data, base)
    await api.grow(data, config.orders)
    await api.settle(data)
    more = await create_customers(url, customers - 1, prefix="rich", balance="100000000.00")
    return data, [data.bench_key, *(key for _, key in more)]


def tell_slice(result: Result, part: Slice) -> None:
    poll = "  ".join(f"{name} {n} p50 {p50:.1f} p99 {p99:.1f}" for name, (n, p50, p99) in part.poll.items())
    users = part.tables.get("users", {})
    stats = (
        f"users upd {users.get('n_tup_upd', 0)} hot {users.get('n_tup_hot_upd', 0)} "
        f"dead {users.get('n_dead_tup', 0)} av {users.get('autovacuum_count', 0)} "
        f"heap {users.get('heap_bytes', 0) // 1024} kB idx {users.get('index_bytes', 0) // 1024} kB"
        if users
        else ""
    )
    if part.server:
        orders_av = part.tables.get("orders", {}).get("autovacuum_count", 0)
        stats += (
            f" | checkpoints +{part.server['checkpoints']} WAL {part.server['wal_bytes'] / 2**20:.0f} MB "
            f"FPI {part.server['wal_fpi']} orders av {orders_av}"
        )
    waits = " ".join(f"{name}={count}" for name, count in part.waits.items())
    print(
        f"{result.backend:8} av={result.autovacuum:6} customers={result.customers:<3} slice {part.number:>3} "
        f"{part.rps:7.0f} orders/s p50 {part.p50_ms:6.1f} p99 {part.p99_ms:7.1f} ms "
        f"bad {part.bad} | {poll} | load {part.load} | {stats} | waits {waits}",
        flush=True,
    )


def sustained(result: Result, config: Config, server: api.Server, data: api.Dataset, keys: list[str]) -> None:
    """The add load in slices, with the poller and (PostgreSQL) the watcher beside it; then the after-load wrk."""
    workdir = Path(server.log_path).parent
    traffic = add_traffic(keys, data.service_id)
    count = max(1, round(config.minutes * 60 / config.slice_seconds))
    watcher = Watcher(data.url) if data.backend == "postgres" else None
    if config.warmup_seconds:
        warm = wrk_for(server, traffic, config.warmup_seconds, config.concurrency, workdir)
        print(
            f"{result.backend:8} av={result.autovacuum:6} customers={result.customers:<3} warm-up "
            f"{config.warmup_seconds} s: {warm['requests']} orders, p99 {warm['p99'] / 1000:.1f} ms (not counted)",
            flush=True,
        )
    with Poller(server.url, data.bench_key, data.bench_orders[-10:]) as poller, watcher or contextlib.nullcontext():
        if watcher is not None:
            watcher.server()  # the first slice's checkpoints and WAL count from here
        for number in range(1, count + 1):
            figures = wrk_for(server, traffic, config.slice_seconds, config.concurrency, workdir)
            seconds = figures["micros"] / 1e6
            part = Slice(number, int(figures["requests"]), figures["requests"] / seconds if seconds else 0.0)
            part.p50_ms, part.p99_ms = figures["p50"] / 1000, figures["p99"] / 1000
            part.bad = int(figures["non2xx"]) + int(figures["json_errors"]) + int(figures["socket"])
            part.poll, part.load = poller.take(), uptime_load()
            if watcher is not None:
                part.waits, part.tables, part.server = watcher.take(), watcher.tables(), watcher.server()
            result.slices.append(part)
            tell_slice(result, part)
    key = f"key={data.bench_key}"
    status = f"{key}&action=status&orders=" + ",".join(map(str, data.bench_orders[-10:]))
    for name, body in (("balance", f"{key}&action=balance"), ("status", status)):
        found = wrk_for(
            server, api.Scenario(name, [body], None, 0).traffic(), config.after_seconds, config.concurrency, workdir
        )
        seconds = found["micros"] / 1e6
        result.after[name] = (found["requests"] / seconds if seconds else 0.0, found["p50"] / 1000, found["p99"] / 1000)
        print(
            f"{result.backend:8} av={result.autovacuum:6} customers={result.customers:<3} after: {name} "
            f"{result.after[name][0]:,.0f} req/s p50 {result.after[name][1]:.1f} p99 {result.after[name][2]:.1f} ms "
            f"(load {uptime_load()})",
            flush=True,
        )


async def one_run(config: Config, backend: str, autovacuum: str, customers: int, workdir: Path) -> Result:
    result = Result(backend, autovacuum if backend == "postgres" else "-", customers)
    bench = api.Config(postgres_url=config.postgres_url, workers=config.workers)
    workdir = workdir / f"{backend}-{autovacuum}-{customers}"  # a SQLite file of its own per run
    workdir.mkdir()
    async with api.scratch_database(bench, backend, workdir) as url:
        data, keys = await dataset(url, backend, config, customers)
        if backend == "postgres" and autovacuum != "server":
            await asyncio.to_thread(set_autovacuum, config.postgres_url, autovacuum)
        tag = f"decay-{backend}-{autovacuum}-{customers}"
        async with api.served("smmpanel", data, bench, workdir, tag) as server:
            await asyncio.to_thread(sustained, result, config, server, data, keys)
    return result


def verdict(result: Result) -> str:
    """The last slice's rate against the first's, and the worst p99 of all slices."""
    if not result.slices:
        return "-"
    first, last = result.slices[0], result.slices[-1]
    ratio = last.rps / first.rps if first.rps else 0.0
    worst = max(part.p99_ms for part in result.slices)
    return (
        f"{result.backend:8} av={result.autovacuum:6} customers={result.customers:<3} first {first.rps:.0f} "
        f"last {last.rps:.0f} orders/s (last/first {ratio:.2f}{' ok' if ratio >= 0.8 else ' < 0.8'}), "
        f"mean {statistics.fmean(p.rps for p in result.slices):.0f}, worst p99 {worst:.0f} ms"
        f"{' ok' if worst < 100 else ' >= 100'}"
    )


async def run_all(config: Config) -> list[Result]:
    results: list[Result] = []
    workdir = Path(tempfile.mkdtemp(prefix="smmpanel-decay-"))
    try:
        for backend in config.backends:
            for autovacuum in config.autovacuum if backend == "postgres" else ("-",):
                for customers in config.loads:
                    results.append(await one_run(config, backend, autovacuum, customers, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decay", description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--minutes", type=float, default=Config.minutes, help="of add load per run")
    parser.add_argument("--slice", type=int, default=SLICE_SECONDS, help="seconds per printed slice")
    parser.add_argument("--loads", default="1,10,100", help="customers placing the orders, per run")
    parser.add_argument(
        "--autovacuum", default="on,off", help="PostgreSQL runs with autovacuum on, off, or as the server has it"
    )
    parser.add_argument("--orders", type=int, default=Config.orders, help="orders loaded before the load")
    parser.add_argument("--concurrency", type=int, default=Config.concurrency, help="wrk connections")
    parser.add_argument("--workers", type=int, default=Config.workers, help="server processes on PostgreSQL")
    parser.add_argument("--after", type=int, default=Config.after_seconds, help="seconds of balance/status after")
    parser.add_argument(
        "--warmup", type=int, default=Config.warmup_seconds, help="seconds of add load before the first slice"
    )
    parser.add_argument("--postgres-url", default=api.POSTGRES_ADMIN_URL)
    args = parser.parse_args(argv)
    if make_url(args.postgres_url).host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("benchmarks use a loopback PostgreSQL only")
    loads = tuple(int(n) for n in args.loads.split(","))
    if any(n < 1 for n in loads) or args.slice < 1 or args.minutes <= 0:
        parser.error("--loads, --slice and --minutes must be positive")
    return Config(
        backends=api.names(parser, args.backends, ("postgres", "sqlite")),
        minutes=args.minutes,
        slice_seconds=args.slice,
        loads=loads,
        autovacuum=api.names(parser, args.autovacuum, ("on", "off", "server")),
        orders=args.orders,
        concurrency=args.concurrency,
        workers=args.workers,
        after_seconds=args.after,
        warmup_seconds=args.warmup,
        postgres_url=args.postgres_url,
    )


def main(argv: Sequence[str] | None = None) -> list[Result]:
    config = parse_args(argv)
    print(f"# {api._machine()}; {config.concurrency} connections, {config.slice_seconds} s slices", flush=True)
    sets = "postgres" in config.backends and set(config.autovacuum) - {"server"}
    guard = autovacuum_restored(config.postgres_url) if sets else contextlib.nullcontext()
    with guard:
        results = asyncio.run(run_all(config))
    for result in results:
        print(verdict(result), flush=True)
    return results


if __name__ == "__main__":
    main()
