"""Load and soak: the whole panel, as an operator runs it, under a mixed load and a schedule of faults.

Every part is its own OS process: the provider simulator (``benchmarks.provider``), the API
(``smmpanel serve --workers 2 --no-engine``) and the order engine (``smmpanel worker`` x2) on a
scratch PostgreSQL database; or, with ``--backend sqlite``, one ``smmpanel serve`` running its
engine in-process. The provider, its service and the customers are set up with the CLI.
Customers then send a mixed API v2 load (``benchmarks.soak_load``) for ``--duration`` seconds
while faults strike at fixed fractions of it:

====  =====================  ==========================================================
 15%  worker killed          ``kill -9`` of one engine worker, and a new one started
                             (on SQLite: of the panel, ``panel killed``)
 30%  db restarted           every connection to the database terminated (PostgreSQL only)
 45%  provider slow          the provider holds each answer ``--slow-latency`` seconds
 52%  all workers killed     ``kill -9`` of every worker once orders are being sent, and as
                             many started (SQLite: the panel again)
 60%  provider fast          the provider answers at once again
 70%  provider errors        ``--error-rate`` of its answers are HTML 500 pages
 82%  after                  and none any more
====  =====================  ==========================================================

Then the load stops, the engine is given ``--drain`` seconds to settle what it can, and the
run is audited (``benchmarks.soak_checks``): every accepted order exists once with exactly its
charge in the ledger, ``smmpanel ledger verify`` passes, no balance is negative, nothing was
sent upstream twice, and no answer outside the database restart was a 5xx. The report gives
latency and outcomes per phase, and lists what the engine left to the operator with reasons.
The exit status is 1 when anything was lost, duplicated or misbooked.

    .venv/bin/python -m benchmarks.soak                         # PostgreSQL, 120 s
    .venv/bin/python -m benchmarks.soak --duration 30 --backend sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from benchmarks.engine import WORKER_BACKENDS, Process, _env, _free_port, _start, _stop, _wait_ready
from benchmarks.fuzz_long import scratch_database
from benchmarks.provider import API_KEY
from benchmarks.soak_checks import Findings, audit, read_panel
from benchmarks.soak_load import Customer, Load, Record, Sample, percentile, service_of
from smmpanel.db.engine import IDLE_PING_SECONDS, create_engine
from tests.support.cli import Background, Cli

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PANEL_SETTINGS: dict[str, object] = {
    "sync_interval": 2,
    "engine_interval": 0.2,
    "http_timeout": 10,
    "http_connect_timeout": 2,
    "send_lease_grace": 3,
    "retry_backoff": 1,
    "log_level": "WARNING",
}
"""Shorter than the defaults, so that a soak of minutes sees whole order lives: a status check
every 2 s, and a killed worker's sends handed to the attention list after 15 s, not 65 s."""
SIMULATOR_STEP = 1.0
"""Seconds an order is Pending, then In progress, at the provider: done 2 s after it was sent."""
PARTIAL_RATE = 0.2
READY_SECONDS = 60.0
STOP_SECONDS = 15.0
POLL_SECONDS = 0.5
SENDING = "SELECT count(*) FROM orders WHERE dispatch = 'sending'"
MID_SEND_WAIT = 5.0
DB_RESTART = "db restarted"
PANEL_KILLED = ("panel killed", "panel killed again")
"""SQLite's faults that take the API down with the engine: customers get no answer for a while."""
TERMINATE = f"SELECT count(pg_terminate_backend(pid)) FROM ({WORKER_BACKENDS}) AS backends"
OPEN_ORDERS = (
    "SELECT count(*) FROM orders WHERE status NOT IN ('Completed', 'Partial', 'Canceled') "
    "AND dispatch NOT IN ('attention', 'failed') AND (runs IS NULL OR parent_id IS NOT NULL)"
)
"""Orders the engine still has work on. A drip-feed itself is never sent: its runs are (and the
next one may be minutes away), and it follows them, also when one waits for the operator."""


@dataclass(frozen=True)
class Config:
    backend: str = "postgres"
    duration: float = 120.0
    drain: float = 60.0
    customers: int = 4
    concurrency: int = 8
    rate: float = 40.0
    workers: int = 2
    slow_latency: float = 3.0
    error_rate: float = 0.1
    seed: int = 1
    postgres_url: str = POSTGRES_ADMIN_URL
    logs: Path | None = None
    """Keep the processes' logs here (default: a temporary directory, removed)."""


@dataclass
class Result:
    """What the run found; ``ok`` is the exit status."""

    config: Config
    record: Record = field(default_factory=Record)
    findings: Findings = field(default_factory=Findings)
    ledger_verified: bool = False
    drained_in: float | None = None
    """Seconds the engine took to settle after the load stopped; None when the drain timed out."""
    events: list[tuple[float, str, str]] = field(default_factory=list)
    """(seconds into the run, phase it opened, what was done)."""
    provider: dict[str, Any] = field(default_factory=dict)
    logged_errors: Counter[str] = field(default_factory=Counter)
    """``process: message`` of the ERROR lines the panel's processes logged (a database fault logs some)."""

    @property
    def problems(self) -> list[str]:
        problems = list(self.findings.problems)
        if not self.ledger_verified:
            problems.append("`smmpanel ledger verify` failed")
        restarts = [at for at, phase, _ in self.events if phase == DB_RESTART]
        faults = Counter(f"{s.phase}: {s.outcome}" for s in self.record.samples if _server_fault(s, restarts))
        if faults:
            problems.append(f"server errors (5xx or no answer outside the faults that excuse it): {dict(faults)}")
        return problems

    @property
    def ok(self) -> bool:
        return not self.problems


def _server_fault(sample: Sample, restarts: list[float]) -> bool:
    """A 5xx or a request left unanswered that no fault excuses; an answer that is not JSON never is.

    A restart of the database excuses them in requests under way when it struck and for
    ``IDLE_PING_SECONDS`` after it: a pooled connection that rested less is used unchecked, and
    its request fails (``smmpanel.db.engine``). A 503 closes its keep-alive connection, so the
    customer's next request on it may find it gone. On SQLite, the panel's own kill excuses them
    while it restarts.
    """
    if "not JSON" in sample.outcome:
        return True
    if not sample.outcome.startswith(("http 5", "transport")) or sample.phase in PANEL_KILLED:
        return False
    return not any(at <= sample.at + sample.seconds and sample.at < at + IDLE_PING_SECONDS for at in restarts)


# --- the system ------------------------------------------------------------------------


class System:
    """The panel's processes, its database and the simulated provider, with the faults to inflict."""

    def __init__(self, config: Config, database_url: str, workdir: Path) -> None:
        self.config = config
        self.database_url = database_url
        self.workdir = workdir
        self.processes = Background(database_url, workdir)
        self.cli = Cli(database_url, workdir, **PANEL_SETTINGS)
        sim_port, self.api_port = _free_port(), _free_port()
        self.sim_url = f"http://127.0.0.1:{sim_port}"
        self.api_url = f"http://127.0.0.1:{self.api_port}/api/v2"
        argv = [sys.executable, "-m", "benchmarks.provider", "--port", str(sim_port)]
        argv += ["--seconds-per-step", str(SIMULATOR_STEP), "--partial-rate", str(PARTIAL_RATE)]
        self._sim_argv = [*argv, "--seed", str(config.seed)]
        self.simulator: Process | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.roles: dict[int, str] = {}
        """Process id → ``serve 1234`` or ``worker 1234``, for the report."""
        self.sim = httpx.AsyncClient(base_url=self.sim_url, params={"key": API_KEY}, timeout=30)  # _sim needs it

    @property
    def sqlite(self) -> bool:
        return self.config.backend == "sqlite"

    async def start(self) -> tuple[list[Customer], int]:
        """Every process up, the provider and its service set up, the customers made: (customers, service id)."""
        self.simulator = _start("simulator", self._sim_argv, _env({}), self.workdir)
        await _wait_ready(self.sim, self.simulator)
        await self._cli("provider", "add", "sim", "--url", f"{self.sim_url}/api/v2", "--key", API_KEY)
        imported = await self._cli("provider", "import", "sim", "--markup", "20", "--services", "1")
        customers = []
        for number in range(self.config.customers):
            balance = "5.00" if number == 0 else "1000.00"  # the first one runs out of funds
            made = await self._cli("user", "create", f"soak{number}", "--balance", balance)
            customers.append(Customer(str(made["username"]), str(made["api_key"])))
        self._start_server()
        await self._wait_api(customers[0])
        for _ in range(0 if self.sqlite else self.config.workers):
            self.workers.append(self._launch("worker"))
        return customers, int(imported["created"][0])

    async def _cli(self, *args: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.cli.json, *args)

    def _start_server(self) -> None:
        argv = ["serve", "--host", "127.0.0.1", "--port", str(self.api_port)]
        if not self.sqlite:
            argv += ["--workers", "2", "--no-engine"]
        self.server = self._launch(*argv)

    def _launch(self, *argv: str) -> subprocess.Popen[bytes]:
        process = self.processes.start(*argv, **PANEL_SETTINGS)
        self.roles[process.pid] = f"{argv[0]} {process.pid}"
        return process

    async def _wait_api(self, customer: Customer) -> None:
        deadline = time.monotonic() + READY_SECONDS
        async with httpx.AsyncClient(timeout=5) as client:
            while time.monotonic() < deadline:
                assert self.server is not None
                if self.server.poll() is not None:
                    raise RuntimeError(f"serve exited:\n{self.processes.log(self.server)[-2000:]}")
                with contextlib.suppress(httpx.TransportError, ValueError):
                    answer = await client.post(self.api_url, data={"key": customer.key, "action": "balance"})
                    if answer.status_code == 200 and "balance" in answer.json():
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"the panel did not answer within {READY_SECONDS:.0f} s")

    # faults

    async def kill_engine(self, every: bool = False) -> str:
        """``kill -9`` one engine worker, or ``every`` one once some orders are being sent (within
        ``MID_SEND_WAIT`` seconds), and start as many; on SQLite the engine is the panel itself."""
        deadline = time.monotonic() + (MID_SEND_WAIT if every else 0)
        while (count := await self._count(SENDING)) == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        sending = f"orders being sent: {count}"
        if self.sqlite:
            assert self.server is not None
            old = self.server.pid
            self.processes.kill(self.server)
            self._start_server()
            return f"killed serve (pid {old}) with its engine ({sending}); started pid {self.server.pid}"
        victims = self.workers if every else self.workers[:1]
        for victim in victims:
            self.processes.kill(victim)
        self.workers = [*self.workers[len(victims) :], *(self._launch("worker") for _ in victims)]
        killed = ", ".join(str(process.pid) for process in victims)
        started = ", ".join(str(process.pid) for process in self.workers[len(self.workers) - len(victims) :])
        return f"killed worker pid {killed} ({sending}); started {started}"

    async def restart_database(self) -> str:
        dsn = make_url(self.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            terminated = await conn.fetchval(TERMINATE)
        finally:
            await conn.close()
        return f"terminated {terminated} database connections"

    async def provider(self, **settings: float) -> str:
        answer = await self.sim.post("/_sim/settings", data={k: str(v) for k, v in settings.items()})
        answer.raise_for_status()
        return f"provider now {answer.json()}"

    # the end

    async def drain(self, seconds: float) -> float | None:
        """Wait until the engine has nothing left to do (or ``seconds`` passed): how long it took."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            with contextlib.suppress(Exception):  # a connection left dead by the restart: ask again
                if await self._count(OPEN_ORDERS) == 0:
                    return time.monotonic() - started
            await asyncio.sleep(POLL_SECONDS)
        return None

    async def _count(self, query: str) -> int:
        engine = create_engine(self.database_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                return int((await conn.exec_driver_sql(query)).scalar_one())
        finally:
            await engine.dispose()

    async def provider_view(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        stats, listing = await self.sim.get("/_sim/stats"), await self.sim.get("/_sim/orders")
        return stats.json(), listing.json()

    def stop_panel(self) -> None:
        """SIGINT to each process group (a worker finishes its pass), SIGKILL to what remains."""
        running = [p for p in [*self.workers, self.server] if p is not None and p.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        self.processes.stop_all()

    def logged_errors(self) -> Counter[str]:
        """``process: message`` of every ERROR log line (and raw traceback) of the panel's processes."""
        found: Counter[str] = Counter()
        for process in self.processes.processes:
            name = self.roles.get(process.pid, "?")
            for line in self.processes.log(process).splitlines():
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if isinstance(entry, dict) and entry.get("level") in ("error", "critical"):
                        found[f"{name}: {str(entry.get('msg')).strip()}"] += 1
                    continue
                if line.startswith("Traceback"):
                    found[f"{name}: a traceback outside the JSON log"] += 1
        return found

    async def close(self) -> None:
        self.stop_panel()
        if self.simulator is not None:
            _stop([self.simulator])
        await self.sim.aclose()


# --- the run ---------------------------------------------------------------------------

Fault = tuple[float, str, Callable[[], Awaitable[str]]]


def schedule(system: System, config: Config) -> list[Fault]:
    """(fraction of the duration, the phase it opens, the action).

    The second kill, of every worker, comes while the provider is slow and once orders are being
    sent, so that sends are on the wire: their orders must end on the attention list, never be
    sent again.
    """
    one, every = PANEL_KILLED if system.sqlite else ("worker killed", "all workers killed")
    faults: list[Fault] = [(0.15, one, system.kill_engine)]
    if not system.sqlite:
        faults.append((0.30, DB_RESTART, system.restart_database))
    faults += [
        (0.45, "provider slow", lambda: system.provider(latency=config.slow_latency)),
        (0.52, every, lambda: system.kill_engine(every=True)),
        (0.60, "provider fast", lambda: system.provider(latency=0)),
    ]
    if config.error_rate:
        faults += [
            (0.70, "provider errors", lambda: system.provider(error_rate=config.error_rate)),
            (0.82, "after", lambda: system.provider(error_rate=0)),
        ]
    return faults


async def soak(config: Config, database_url: str, workdir: Path) -> Result:
    result = Result(config)
    system = System(config, database_url, workdir)
    try:
        began = time.monotonic()
        customers, service_id = await system.start()
        print(f"set up in {time.monotonic() - began:.1f} s; load for {config.duration:.0f} s", flush=True)
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(system.api_url, data={"key": customers[0].key, "action": "services"})
        load = Load(
            system.api_url,
            customers,
            service_of(answer.json(), service_id),
            concurrency=config.concurrency,
            rate=config.rate,
            seed=config.seed,
        )
        result.record = load.record
        stop = asyncio.Event()
        started = time.monotonic()
        running = asyncio.create_task(load.run(stop, started))
        for fraction, phase, action in schedule(system, config):
            await asyncio.sleep(max(0.0, started + fraction * config.duration - time.monotonic()))
            load.phase, at = phase, time.monotonic() - started
            note = await action()
            result.events.append((at, phase, note))
            print(f"{at:6.1f} s  {phase}: {note}", flush=True)
        await asyncio.sleep(max(0.0, started + config.duration - time.monotonic()))
        stop.set()
        await running
        print(f"{time.monotonic() - started:6.1f} s  load stopped; draining", flush=True)
        result.drained_in = await system.drain(config.drain)
        result.provider, upstream = await system.provider_view()
        system.stop_panel()
        print(f"{time.monotonic() - started:6.1f} s  drained and stopped; auditing", flush=True)
        result.findings = audit(load.record, await read_panel(database_url), upstream)
        verified = await asyncio.to_thread(system.cli, "ledger", "verify", "--json")
        result.ledger_verified = verified.returncode == 0 and json.loads(verified.stdout).get("ok") is True
        result.logged_errors = system.logged_errors()
    finally:
        await system.close()
    return result


# --- the report ------------------------------------------------------------------------


def report(result: Result) -> str:
    config, record = result.config, result.record
    lines = [
        f"soak: {config.backend}, {config.duration:.0f} s, {config.customers} customers, "
        f"≤ {config.rate:.0f} requests/s, {config.concurrency} at once"
        + ("" if config.backend == "sqlite" else f", {config.workers} engine workers"),
        "",
        f"{'phase':<22} {'from s':>6} {'requests':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  outcomes",
    ]
    by_phase: defaultdict[str, list[Sample]] = defaultdict(list)
    for sample in record.samples:
        by_phase[sample.phase].append(sample)
    for started, phase, _ in [(0.0, "before", ""), *result.events]:
        samples = by_phase.get(phase, [])
        millis = [1000 * s.seconds for s in samples]
        outcomes = Counter(s.outcome for s in samples)
        shown = ", ".join(f"{name} {count}" for name, count in outcomes.most_common())
        lines.append(
            f"{phase:<22} {started:>6.1f} {len(samples):>8} {percentile(millis, 0.5):>7.1f}"
            f" {percentile(millis, 0.99):>7.1f} {max(millis, default=0):>7.1f}  {shown}"
        )
    actions = Counter(s.action for s in record.samples)
    lines += ["", "requests by action: " + ", ".join(f"{k} {v}" for k, v in actions.most_common())]
    lines += ["refusals (JSON error answers): " + (", ".join(f"{k} {v}" for k, v in record.refusals.most_common()))]
    restarts = [at for at, phase, _ in result.events if phase == DB_RESTART]
    failed = [s for s in record.samples if s.outcome.startswith(("http 5", "transport")) or "JSON" in s.outcome]
    excused = sum(1 for s in failed if not _server_fault(s, restarts))
    lines.append(
        f"5xx or no answer: {len(failed)}, {excused} of them excused "
        f"(within {IDLE_PING_SECONDS:.0f} s of a database restart, or while the panel restarted)"
    )
    lines += [f"  a 5xx answer: {body}" for body in record.server_errors]
    drained = "timed out" if result.drained_in is None else f"{result.drained_in:.1f} s"
    lines += ["", f"drain: {drained}"]
    stats = result.provider
    if stats:
        lines.append(
            f"provider: {stats.get('add_calls')} add calls, {stats.get('orders_total')} orders, "
            f"{stats.get('errors_served')} error pages served, calls {stats.get('calls')}"
        )
    lines += result.findings.lines
    lines.append(f"ledger verify: {'ok' if result.ledger_verified else 'FAILED'}")
    lines.append(f"errors logged by the panel's processes: {sum(result.logged_errors.values()) or 'none'}")
    lines += [f"  {count:>5}  {text}" for text, count in sorted(result.logged_errors.items())]
    problems = result.problems
    lines += ["", "RESULT: nothing lost, nothing sent twice, the ledger verifies" if not problems else "RESULT: FAILED"]
    lines += [f"  - {problem}" for problem in problems]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default=Config.backend)
    parser.add_argument("--duration", type=float, default=Config.duration, help="seconds of load")
    parser.add_argument("--drain", type=float, default=Config.drain, help="seconds the engine gets to settle after")
    parser.add_argument("--customers", type=int, default=Config.customers)
    parser.add_argument("--concurrency", type=int, default=Config.concurrency, help="requests in flight at most")
    parser.add_argument("--rate", type=float, default=Config.rate, help="requests per second at most")
    parser.add_argument("--workers", type=int, default=Config.workers, help="engine workers (PostgreSQL)")
    parser.add_argument("--slow-latency", type=float, default=Config.slow_latency, help="the slow provider's delay")
    parser.add_argument("--error-rate", type=float, default=Config.error_rate, help="0 leaves provider errors out")
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL, help="a server to create a scratch db on")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs in this directory")
    args = parser.parse_args(argv)
    if args.backend == "postgres" and make_url(args.postgres_url).host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the soak uses a loopback PostgreSQL only")
    if args.customers < 1 or args.workers < 1 or args.concurrency < 1 or args.rate <= 0:
        parser.error("--customers, --workers, --concurrency and --rate must be positive")
    return Config(**{name: getattr(args, name) for name in Config.__dataclass_fields__})


def main(argv: Sequence[str] | None = None) -> Result:
    config = parse_args(argv)
    with contextlib.ExitStack() as stack:
        workdir = config.logs or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smmpanel-soak-")))
        workdir.mkdir(parents=True, exist_ok=True)
        with scratch_database(config.backend, config.postgres_url, "soak") as url:
            result = asyncio.run(soak(config, url, workdir))
    print(report(result), flush=True)
    return result


if __name__ == "__main__":
    sys.exit(0 if main().ok else 1)
