"""API v2 benchmark: smmpanel served as an operator serves it, against its limit (``benchmarks.bare``).

For each back end, a scratch database (a SQLite file; on PostgreSQL ``smmpanel_bench_<random>``
on the loopback server, dropped at the end) gets a catalog of ``--services`` services and
``--customers`` customers, then ``benchmarks.loader`` fills it to each ``--levels`` count of
orders (1 % of them the benchmark customer's, spread over the whole table). At each level
both servers are started in turn, as their operators would start them::

    python -m smmpanel serve                                   # SQLite (with its order engine)
    python -m smmpanel serve --workers N --no-engine           # PostgreSQL
    python -m benchmarks.bare --workers N                      # the limit, same uvicorn call
    python -m benchmarks.bare --driver sqlite3                 # SQLite only: stdlib sqlite3 on the loop

and Debian's ``wrk`` (installed with apt-get if missing) drives each scenario from its own
process on loopback with ``--concurrency`` connections for ``--requests`` requests (a Lua
script stops it there). Scenarios:

``balance``          the customer's balance
``status-1``         one of the customer's orders (100 ids in turn)
``status-100``       100 of the customer's orders in one call
``services``         the whole catalog
``add-broke``        a Default order by a customer with nothing left: every answer
                     must be ``Not enough funds on balance``
``add``              a Default order (the customer's balance is huge): every one must succeed

Only when named in ``--scenarios``, and served by smmpanel only (``ID_LIST_SCENARIOS``): calls
taking 100 ids, each answered per id (most of them an error: canceled already, no refill, …),
to show that they keep their speed past five runs of each prepared statement on PostgreSQL
(the generic-plan trap, ``smmpanel.db.id_lists``):

``cancel-100``         ``cancel`` of 100 of the customer's orders
``refill-100``         ``refill`` of 100 of the customer's orders
``refill-status-100``  ``refill_status`` of 100 refill ids

Per run it prints requests/s, p50/p99 latency, non-2xx answers, JSON ``error`` answers
where success is expected (or answers other than the expected error), and the peak RSS of the
server's processes (sampled every 0.1 s). Each scenario runs ``--repeat`` times per server;
the summary takes the best run of each (noise on a shared machine only ever slows a run down)
and prints smmpanel's throughput as a ratio of bare's, and p50 at each level against the first.

    .venv/bin/python -m benchmarks.api                         # everything (about 20 minutes)
    .venv/bin/python -m benchmarks.api --backends sqlite --levels 10000 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks.loader import OrderSpec, Panel, create_customers, create_panel, load_orders, migrate
from smmpanel.clock import utcnow
from smmpanel.db.engine import create_engine
from smmpanel.db.tables import orders, service_providers, services
from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.orders import OrderStatus

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCENARIOS = ("balance", "status-1", "status-100", "services", "add-broke", "add")
SCALE_SCENARIOS = ("status-1", "status-100", "add")
ID_LIST_SCENARIOS = ("cancel-100", "refill-100", "refill-status-100")
"""Not in the default run, and not served by ``benchmarks.bare``."""
SERVERS = ("smmpanel", "bare", "bare-sqlite3", "before")
LIMITS = ("bare", "bare-sqlite3")
"""``benchmarks.bare`` over smmpanel's drivers, and over the stdlib ``sqlite3`` on the event loop."""
SQLITE_ONLY = frozenset({"bare-sqlite3"})
COMPARED = frozenset({"status-1", "status-100", "services", "add-broke"})
"""Scenarios whose answer must be the same bytes from every server (``balance`` moves with ``add``)."""
GOALS = {"balance": 0.7, "status-1": 0.7, "status-100": 0.7, "add": 0.5}
NOT_ENOUGH_FUNDS = "Not enough funds on balance"
BENCH_SHARE = 100
"""One order in this many belongs to the benchmark customer."""
READY_SECONDS = 180.0
STOP_SECONDS = 15.0


@dataclass(frozen=True)
class Config:
    backends: tuple[str, ...] = ("sqlite", "postgres")
    levels: tuple[int, ...] = (10_000, 1_000_000)
    customers: int = 10_000
    catalog: int = 5_000
    requests: int = 5_000
    services_requests: int = 200
    concurrency: int = 16
    workers: int = 2
    repeat: int = 2
    servers: tuple[str, ...] = ("smmpanel", "bare", "bare-sqlite3")
    scenarios: tuple[str, ...] = SCENARIOS
    scale_scenarios: tuple[str, ...] = SCALE_SCENARIOS
    use_wrk: bool = True
    postgres_url: str = POSTGRES_ADMIN_URL
    profile: Path | None = None
    json_out: Path | None = None
    baseline: Path | None = None
    """Another checkout of smmpanel, served as ``before`` beside ``smmpanel`` (the same data, the same run)."""


@dataclass
class Dataset:
    url: str
    backend: str
    bench_key: str = ""
    broke_key: str = ""
    service_id: int = 0
    bench_user: int = 0
    fillers: list[int] = field(default_factory=list)
    bench_orders: list[int] = field(default_factory=list)
    loaded: int = 0
    answers: dict[tuple[int, str], tuple[str, bytes]] = field(default_factory=dict)
    """``(level, scenario)`` → the first server's probe answer, for ``COMPARED`` scenarios."""


@dataclass
class Run:
    backend: str
    level: int
    server: str
    scenario: str
    run: int
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    non_2xx: int = 0
    json_errors: int = 0
    socket_errors: int = 0
    peak_rss_mb: float = 0.0
    cpu_ms: float = 0.0
    """The server processes' CPU time per request: steadier than req/s on a busy machine."""


@dataclass(frozen=True)
class Traffic:
    """What wrk sends, and what every answer must (not) contain to count as a success."""

    method: str
    targets: list[tuple[str | None, str | None]]
    """``(path, body)`` of each request in turn; a None path is the server URL's own."""
    headers: dict[str, str]
    expect: str | None = None
    forbid: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    bodies: list[str]
    expect_error: str | None
    requests: int

    def traffic(self) -> Traffic:
        """API v2 POSTs: the expected error in every answer, or no ``"error"`` in any."""
        return Traffic(
            "POST",
            [(None, body) for body in self.bodies],
            {"Content-Type": "application/x-www-form-urlencoded"},
            expect=self.expect_error,
            forbid='"error"' if self.expect_error is None else None,
        )


# --- the data ---------------------------------------------------------------------------------


async def pg_execute(admin_url: str, statement: str) -> None:
    """One statement on a PostgreSQL database, outside any transaction (CREATE DATABASE, VACUUM)."""
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def prepare(data: Dataset, config: Config) -> None:
    """The customers and the catalog; the service orders are placed on is forwarded nowhere."""
    await asyncio.to_thread(migrate, data.url)
    panel = await create_panel(
        data.url, provider_url="http://127.0.0.1:9/api/v2", provider_key="unused", balance="100000000.00"
    )
    data.bench_key, data.bench_user, data.service_id = panel.api_key, panel.user_id, panel.service_id
    [(_, data.broke_key)] = await create_customers(data.url, 1, prefix="broke")
    data.fillers = [user for user, _ in await create_customers(data.url, max(1, config.customers - 2))]
    engine = create_engine(data.url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.delete(service_providers))  # orders stay here: the engine has nothing to do
            now = utcnow()
            rows = [
                {
                    "name": f"Instagram Followers [{n}] real, fast start, 30 days refill",
                    "category": f"Instagram Followers {n // 50}",
                    "type": ServiceType.DEFAULT.value,
                    "rate": 10_000 + 37 * n,
                    "min": 10,
                    "max": 100_000 + n,
                    "refill": n % 2 == 0,
                    "cancel": n % 3 == 0,
                    "description": "" if n % 4 else f"Start 0-1 h, speed {n % 50} k/day, no password needed",
                    "position": n,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(1, config.catalog)
            ]
            if rows:
                await conn.execute(services.insert(), rows)
    finally:
        await engine.dispose()


async def grow(
    data: Dataset, level: int, *, statuses: Sequence[OrderStatus] = (), numbered_link: str | None = None
) -> int:
    """Load orders until ``level`` have been loaded; return how many orders the database holds.

    ``statuses`` are cycled over the orders (``OrderSpec``); each order's link is ``numbered_link``
    followed by its id when given. By default all are alike.
    """
    count = level - data.loaded
    if count > 0:
        owners = [
            data.bench_user if i % BENCH_SHARE == 0 else data.fillers[i % len(data.fillers)] for i in range(count)
        ]
        spec = OrderSpec(
            count=count, dispatch=None, user_ids=owners, quantity=1000, statuses=statuses, **_links(numbered_link)
        )
        ids = await load_orders(data.url, _panel(data), spec)
        data.bench_orders += [ids[i] for i in range(0, count, BENCH_SHARE)]
        data.loaded = level
    engine = create_engine(data.url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(orders))).scalar_one())
    finally:
        await engine.dispose()


def _links(numbered: str | None) -> dict[str, Any]:
    return {} if numbered is None else {"link": numbered, "numbered_links": True}


def _panel(data: Dataset) -> Panel:
    return Panel(data.bench_user, "bench", data.bench_key, data.service_id, 0, 100_000)


def scenarios(data: Dataset, config: Config, names: Sequence[str]) -> list[Scenario]:
    pick = random.Random(len(data.bench_orders))
    ids = data.bench_orders
    key = f"key={data.bench_key}"
    add = f"action=add&service={data.service_id}&quantity=1000&link=https://instagram.com/p/"
    made = {
        "balance": Scenario("balance", [f"{key}&action=balance"], None, config.requests),
        "status-1": Scenario(
            "status-1", [f"{key}&action=status&order={i}" for i in pick.sample(ids, min(100, len(ids)))], None, 0
        ),
        "status-100": Scenario(
            "status-100",
            [
                f"{key}&action=status&orders=" + ",".join(map(str, pick.sample(ids, min(100, len(ids)))))
                for _ in range(10)
            ],
            None,
            0,
        ),
        "services": Scenario("services", [f"{key}&action=services"], None, config.services_requests),
        "add-broke": Scenario("add-broke", [f"key={data.broke_key}&{add}{n}" for n in range(100)], NOT_ENOUGH_FUNDS, 0),
        "add": Scenario("add", [f"{key}&{add}{n}" for n in range(100)], None, 0),
        **{name: _id_list(name, key, ids, pick, config) for name in ID_LIST_SCENARIOS},
    }
    return [Scenario(s.name, s.bodies, s.expect_error, s.requests or config.requests) for n in names for s in [made[n]]]


def _id_list(name: str, key: str, ids: Sequence[int], pick: random.Random, config: Config) -> Scenario:
    """One of ``ID_LIST_SCENARIOS``: ten calls of 100 ids each, every id answered on its own."""
    action, field_name = {"cancel-100": ("cancel", "orders"), "refill-100": ("refill", "orders")}.get(
        name, ("refill_status", "refills")
    )
    bodies = [
        f"{key}&action={action}&{field_name}=" + ",".join(map(str, pick.sample(ids, min(100, len(ids)))))
        for _ in range(10)
    ]
    return Scenario(name, bodies, '"', config.services_requests)


# --- the servers ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]
    url: str

    @property
    def origin(self) -> str:
        """``http://host:port``, for the server's pages other than the API."""
        return self.url.removesuffix("/api/v2")

    def tail(self, lines: int = 20) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def pids(self) -> list[int]:
        """The server's process and all its descendants (uvicorn's workers)."""
        found, todo = [], [self.popen.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                with contextlib.suppress(OSError):
                    todo += [int(child) for child in task.read_text().split()]
        return found

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's processes."""
        ticks = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_bytes(self) -> int:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SMMPANEL_", "BARE_"))}
    env.update({k: v for k, v in os.environ.items() if k == "SMMPANEL_CACHE_SECONDS"})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


def start_server(name: str, data: Dataset, config: Config, workdir: Path, tag: str) -> Server:
    port = _free_port()
    workers = ["--workers", str(config.workers)] if data.backend == "postgres" else []
    if name in ("smmpanel", "before"):
        argv = [sys.executable, "-m", "smmpanel", "serve", "--host", "127.0.0.1", "--port", str(port), *workers]
        argv += ["--no-engine"] if data.backend == "postgres" else []
        env = _env({"SMMPANEL_DATABASE_URL": data.url})
        if name == "before" and config.baseline is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(config.baseline), env["PYTHONPATH"]])
        if config.profile is not None and name == "smmpanel":
            config.profile.mkdir(parents=True, exist_ok=True)
            out = config.profile / f"{tag}.txt"
            spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
            argv = [
                spy,
                "record",
                "--format",
                "raw",
                "--rate",
                "200",
                "--gil",
                "--subprocesses",
                "-o",
                str(out),
                "--",
                *argv,
            ]
    else:
        argv = [sys.executable, "-m", "benchmarks.bare", "--database-url", data.url, "--port", str(port), *workers]
        argv += ["--driver", "sqlite3"] if name == "bare-sqlite3" else []
        env = _env({})
    log_path = workdir / f"{tag}.log"
    log = log_path.open("wb")
    popen = subprocess.Popen(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, popen, log_path, log, f"http://127.0.0.1:{port}/api/v2")
    deadline = time.monotonic() + READY_SECONDS
    while True:
        if popen.poll() is not None:
            raise RuntimeError(f"{name} exited ({popen.returncode}):\n{server.tail()}")
        try:
            answer = httpx.post(server.url, data={"key": data.bench_key, "action": "balance"}, timeout=5)
            if answer.status_code == 200 and "balance" in answer.json():
                return server
        except (httpx.TransportError, ValueError):
            pass
        if time.monotonic() > deadline:
            said = server.tail()  # before stop_server closes the log
            stop_server(server)
            raise RuntimeError(f"{name} did not answer within {READY_SECONDS:.0f} s:\n{said}")
        time.sleep(0.2)


def stop_server(server: Server) -> None:
    if server.popen.poll() is None:
        server.popen.send_signal(signal.SIGINT)
        try:
            server.popen.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            server.popen.kill()
            server.popen.wait(timeout=STOP_SECONDS)
    server.log.close()


# --- load -------------------------------------------------------------------------------------


def probe(server: Server, scenario: Scenario) -> bytes:
    """One request by hand: the answer must be what every request of the scenario should get."""
    body = scenario.bodies[0]
    answer = httpx.post(
        server.url, content=body, headers={"content-type": "application/x-www-form-urlencoded"}, timeout=30
    )
    if answer.status_code != 200:
        raise RuntimeError(f"{server.name} {scenario.name}: HTTP {answer.status_code}: {answer.text[:300]}")
    document = answer.json()
    error = document.get("error") if isinstance(document, dict) else None
    if scenario.expect_error is not None and scenario.name not in ID_LIST_SCENARIOS:
        ok = error == scenario.expect_error
    elif scenario.name in ID_LIST_SCENARIOS:  # a list with one answer per id
        ok = isinstance(document, list) and len(document) == len(scenario.bodies[0].split("=")[-1].split(","))
    elif scenario.name == "status-100":
        ok = isinstance(document, dict) and len(document) >= 1 and all("status" in v for v in document.values())
    else:
        ok = error is None and "error" not in answer.text
    if not ok:
        raise RuntimeError(f"{server.name} {scenario.name}: unexpected answer {answer.text[:300]}")
    return answer.content


def same_answer(data: Dataset, server: str, scenario: str, answer: bytes) -> None:
    """The answer of a ``COMPARED`` scenario must be the bytes the first server sent at this level."""
    if scenario not in COMPARED:
        return
    first, expected = data.answers.setdefault((data.loaded, scenario), (server, answer))
    if answer != expected:
        raise RuntimeError(f"{server} {scenario} answers {answer[:200]!r}, {first} {expected[:200]!r}")


_LUA = """
local method = %(method)s
local headers = %(headers)s
local targets = %(targets)s  -- {path, body} pairs; a nil path is the URL's
local limit = %(limit)d
local expect = %(expect)s
local forbid = %(forbid)s
sent, seen, non2xx, json_errors = 0, 0, 0, 0  -- globals: done() reads them with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = method
  for name, value in pairs(headers) do wrk.headers[name] = value end
end

function request()
  sent = sent + 1
  local target = targets[(sent %% #targets) + 1]
  return wrk.format(nil, target[1], nil, target[2])
end

function response(status, headers, body)
  seen = seen + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif expect and not string.find(body, expect, 1, true) then
    json_errors = json_errors + 1
  elseif forbid and string.find(body, forbid, 1, true) then
    json_errors = json_errors + 1
  end
  if seen == limit then
    io.write("LIMIT\\n")  -- wrk's main thread sleeps for -d: the harness interrupts it now
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local n2, je = 0, 0
  for _, thread in ipairs(threads) do
    n2 = n2 + thread:get("non2xx")
    je = je + thread:get("json_errors")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "micros": %%d, "p50": %%d, "p99": %%d, '
    .. '"non2xx": %%d, "json_errors": %%d, "socket": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), n2, je,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _lua_string(text: str | None) -> str:
    return "nil" if text is None else json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def lua_script(traffic: Traffic, requests: int) -> str:
    """The wrk script that sends ``traffic`` and stops after ``requests`` answers."""
    targets = ", ".join("{" + f"{_lua_string(path)}, {_lua_string(body)}" + "}" for path, body in traffic.targets)
    headers = ", ".join(f"[{_lua_string(name)}] = {_lua_string(value)}" for name, value in traffic.headers.items())
    return _LUA % {
        "method": _lua_string(traffic.method),
        "headers": "{" + headers + "}",
        "targets": "{" + targets + "}",
        "limit": requests,
        "expect": _lua_string(traffic.expect),
        "forbid": _lua_string(traffic.forbid),
    }


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, stdout=subprocess.DEVNULL, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(install, stdout=subprocess.DEVNULL, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed")
    return found


def wrk(
    server: Server, name: str, traffic: Traffic, requests: int, concurrency: int, workdir: Path
) -> tuple[dict[str, Any], int, float]:
    """Run ``requests`` requests of ``traffic``; return wrk's figures, the server's peak RSS and CPU seconds."""
    script = workdir / f"{name}.lua"
    script.write_text(lua_script(traffic, requests))
    connections = max(1, min(concurrency, requests))
    cap = max(30, requests // 20)  # seconds: a bound on time as well as on requests
    argv = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{cap}s", "--timeout", "30s", "-s", str(script), server.url]
    peak = [server.rss_bytes()]
    cpu = server.cpu_seconds()
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            peak[0] = max(peak[0], server.rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines: list[str] = []
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.strip() == "LIMIT":
                process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    finally:
        stop.set()
        sampler.join()
        if process.poll() is None:
            process.kill()
            process.wait()
    for line in lines:
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :]), peak[0], server.cpu_seconds() - cpu
    output = "".join(lines)[-800:]
    raise RuntimeError(f"wrk failed ({process.returncode}): {output}")


def measure(
    server: Server, scenario: Scenario, config: Config, workdir: Path, run: Run, data: Dataset | None = None
) -> Run:
    """Check one answer (against the other servers' too, given ``data``), then load the server."""
    answer = probe(server, scenario)
    if data is not None:
        same_answer(data, server.name, scenario.name, answer)
    return load(server, scenario.name, scenario.traffic(), scenario.requests, config, workdir, run)


def load(server: Server, name: str, traffic: Traffic, requests: int, config: Config, workdir: Path, run: Run) -> Run:
    """A warm-up of 1/20 of the requests, then ``requests`` by wrk, measured into ``run`` (unless ``--no-wrk``)."""
    if not config.use_wrk:
        return run
    wrk(server, name, traffic, max(10, requests // 20), config.concurrency, workdir)  # warm-up
    figures, peak, cpu = wrk(server, name, traffic, requests, config.concurrency, workdir)
    run.requests = int(figures["requests"])
    run.seconds = figures["micros"] / 1e6
    run.rps = run.requests / run.seconds if run.seconds else 0.0
    run.p50_ms, run.p99_ms = figures["p50"] / 1000, figures["p99"] / 1000
    run.non_2xx, run.json_errors, run.socket_errors = figures["non2xx"], figures["json_errors"], figures["socket"]
    run.peak_rss_mb = peak / 2**20
    run.cpu_ms = cpu * 1000 / run.requests if run.requests else 0.0
    return run


# --- the report -------------------------------------------------------------------------------

COLUMNS = (
    *("backend", "orders", "server", "scenario", "run", "requests", "req/s", "p50 ms", "p99 ms", "non-2xx"),
    *("bad answers", "peak RSS MB", "CPU ms/req"),
)


def row(run: Run) -> list[str]:
    errors = str(run.json_errors) + (f" (+{run.socket_errors} socket)" if run.socket_errors else "")
    return [
        run.backend,
        f"{run.level:,}",
        run.server,
        run.scenario,
        str(run.run),
        str(run.requests),
        f"{run.rps:,.0f}",
        f"{run.p50_ms:.2f}",
        f"{run.p99_ms:.2f}",
        str(run.non_2xx),
        errors,
        f"{run.peak_rss_mb:.0f}",
        f"{run.cpu_ms:.2f}",
    ]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [list(header), *map(list, rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in lines]
    text.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(text)


def best(runs: Sequence[Run], **match: object) -> Run | None:
    """The fastest of the runs that match: noise on a shared machine only ever slows a run down."""
    found = [r for r in runs if all(getattr(r, k) == v for k, v in match.items())]
    return max(found, key=lambda r: r.rps) if found else None


def least_cpu(runs: Sequence[Run], **match: object) -> float:
    """The least CPU time per request of the runs that match (0 when none measured it)."""
    found = [r.cpu_ms for r in runs if r.cpu_ms and all(getattr(r, k) == v for k, v in match.items())]
    return min(found) if found else 0.0


def p50_vs_first(runs: Sequence[Run], found: Run | None) -> str:
    """``found``'s p50 over that of the best run of its scenario and server at the back end's first
    level, against the goal (1.3×: the same answer with 100× the orders should not be much slower)."""
    if found is None:
        return "-"
    where = {"backend": found.backend, "scenario": found.scenario, "server": found.server}
    first = min(r.level for r in runs if all(getattr(r, k) == v for k, v in where.items()))
    base = best(runs, **where, level=first)
    if base is None or not base.p50_ms or found.level == first:
        return "-"
    return f"{found.p50_ms / base.p50_ms:.2f}" + (" ok" if found.p50_ms <= 1.3 * base.p50_ms else " > 1.3")


def _against(runs: Sequence[Run], ours: Run | None, our_cpu: float, limit: str, **where: object) -> list[str]:
    """``limit``'s req/s, smmpanel's ratio of it (with the goal's verdict), both CPU ms/req and the CPU ratio."""
    other, other_cpu = best(runs, **where, server=limit), least_cpu(runs, **where, server=limit)
    ratio = f"{ours.rps / other.rps:.2f}" if ours and other and other.rps else "-"
    goal = GOALS.get(str(where["scenario"]))
    verdict = "" if goal is None or ratio == "-" else (" ok" if float(ratio) >= goal else f" < {goal}")
    return [
        f"{other.rps:,.0f}" if other else "-",
        ratio + verdict,
        f"{our_cpu:.2f} / {other_cpu:.2f}",
        f"{other_cpu / our_cpu:.2f}" if our_cpu and other_cpu else "-",
    ]


def summary(runs: Sequence[Run]) -> str:
    """Best run per (backend, level, scenario): smmpanel / each limit, and smmpanel's p50 against the first level.

    ``ratio`` is smmpanel's req/s over the limit's (``bare``, and ``bare-sqlite3`` when it ran);
    ``CPU ratio`` is the limit's CPU time per request over smmpanel's (least of the runs), the same
    measure of efficiency, steadier on a busy machine.
    """
    limits = [name for name in LIMITS if any(r.server == name for r in runs)]
    rows = []
    keys = dict.fromkeys((r.backend, r.level, r.scenario) for r in runs)
    for backend, level, scenario in keys:
        where = {"backend": backend, "level": level, "scenario": scenario}
        ours, bare = best(runs, **where, server="smmpanel"), best(runs, **where, server="bare")
        our_cpu = least_cpu(runs, **where, server="smmpanel")
        before = best(runs, **where, server="before")
        before_cpu = least_cpu(runs, **where, server="before")
        row = [backend, f"{level:,}", scenario, f"{ours.rps:,.0f}" if ours else "-", f"{our_cpu:.2f}"]
        for limit in limits:
            row += _against(runs, ours, our_cpu, limit, **where)
        row += [f"{ours.p50_ms:.2f}" if ours else "-", f"{bare.p50_ms:.2f}" if bare else "-", p50_vs_first(runs, ours)]
        if before:
            row += [
                f"{before.rps:,.0f} / {before_cpu:.2f}",
                f"{ours.rps / before.rps:.2f}" if ours and before.rps else "-",
                f"{before.rps / bare.rps:.2f}" if bare and bare.rps else "-",
            ]
        rows.append(row)
    header: tuple[str, ...] = ("backend", "orders", "scenario", "smmpanel req/s", "CPU ms/req")
    for limit in limits:
        header += (f"{limit} req/s", f"ratio ({limit})", f"CPU ms/req (ours / {limit})", f"CPU ratio ({limit})")
    header = (*header, "p50 ms", "bare p50", "p50 vs first level")
    if any(r.server == "before" for r in runs):
        header = (*header, "before req/s / CPU ms", "speed-up", "before ratio")
        rows = [row + ["-"] * (len(header) - len(row)) for row in rows]
    return table(header, rows)


# --- the run ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def scratch_database(config: Config, backend: str, workdir: Path) -> AsyncIterator[str]:
    """The URL of an empty database: a SQLite file in ``workdir``, or ``smmpanel_bench_<random>`` on
    ``config.postgres_url`` (``$SMMPANEL_BENCH_DB_PREFIX`` in place of ``smmpanel_bench``, to tell
    whose it is on a shared server), dropped (connections and all) when the block ends."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    pg_name = f"{os.environ.get('SMMPANEL_BENCH_DB_PREFIX', 'smmpanel_bench')}_{secrets.token_hex(4)}"
    await pg_execute(config.postgres_url, f'CREATE DATABASE "{pg_name}"')
    try:
        yield make_url(config.postgres_url).set(database=pg_name).render_as_string(hide_password=False)
    finally:
        await pg_execute(config.postgres_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def served(name: str, data: Dataset, config: Config, workdir: Path, tag: str) -> AsyncIterator[Server]:
    """``start_server`` for the block, stopped (SIGINT, as an operator would) when it ends."""
    server = await asyncio.to_thread(start_server, name, data, config, workdir, tag)
    try:
        yield server
    finally:
        await asyncio.to_thread(stop_server, server)


async def settle(data: Dataset) -> None:
    """PostgreSQL: vacuum and checkpoint after a bulk load, as autovacuum soon would; otherwise the first
    runs after a million-order COPY race autovacuum and the checkpointer for the CPU."""
    if data.backend == "postgres":
        await pg_execute(data.url, "VACUUM (ANALYZE) orders, ledger_entries")
        await pg_execute(data.url, "CHECKPOINT")


async def level_up(
    data: Dataset,
    config: Config,
    level: int,
    started: float,
    *,
    statuses: Sequence[OrderStatus] = (),
    numbered_link: str | None = None,
) -> None:
    """``grow`` to ``level`` and ``settle``, then say what the database holds and how long loading took."""
    loading = time.monotonic()
    held = await grow(data, level, statuses=statuses, numbered_link=numbered_link)
    await settle(data)
    print(
        f"# {data.backend}: {held:,} orders, {config.customers:,} customers, {config.catalog:,} services "
        f"(loaded in {time.monotonic() - loading:.1f} s, {time.monotonic() - started:.0f} s so far)",
        flush=True,
    )


def tell(run: Run, config: Config) -> None:
    """Print one finished run as a line of the table (with ``COLUMNS``' header printed first)."""
    if config.use_wrk:
        print(" | ".join(row(run)), flush=True)


async def bench_backend(config: Config, backend: str, workdir: Path, runs: list[Run]) -> None:
    async with scratch_database(config, backend, workdir) as url:
        data = Dataset(url, backend)
        started = time.monotonic()
        await prepare(data, config)
        for number, level in enumerate(config.levels):
            await level_up(data, config, level, started)
            names = config.scenarios if number == 0 else [n for n in config.scenarios if n in config.scale_scenarios]
            for repeat in range(1, config.repeat + 1):
                for name in config.servers:
                    if name in SQLITE_ONLY and backend != "sqlite":
                        continue
                    async with served(name, data, config, workdir, f"{backend}-{level}-{name}-{repeat}") as server:
                        for scenario in scenarios(data, config, names):
                            if name in LIMITS and scenario.name in ID_LIST_SCENARIOS:
                                continue
                            run = Run(backend, level, name, scenario.name, repeat)
                            await asyncio.to_thread(measure, server, scenario, config, workdir, run, data)
                            runs.append(run)
                            tell(run, config)


Bench = Callable[[Config, str, Path, list[Run]], Awaitable[None]]
"""One back end's whole benchmark: ``(config, backend, workdir, runs)``, appending each run as it ends."""


async def run(config: Config, bench: Bench = bench_backend) -> list[Run]:
    if config.use_wrk:
        ensure_wrk()
    runs: list[Run] = []
    workdir = Path(tempfile.mkdtemp(prefix="smmpanel-bench-"))
    try:
        for backend in config.backends:
            await bench(config, backend, workdir, runs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return runs


def _machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return f"{os.cpu_count()} CPUs, {model}, {memory:.0f} GiB, {time.strftime('%Y-%m-%d')}"


def names(parser: argparse.ArgumentParser, text: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """A comma-separated choice from ``allowed``; anything else is a usage error."""
    chosen = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = set(chosen) - set(allowed)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))} (choose from {', '.join(allowed)})")
    return chosen


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark served this way shares: data, load, back ends, output."""
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--levels", default="10000,1000000", help="orders in the database, in turn")
    parser.add_argument("--customers", type=int, default=Config.customers)
    parser.add_argument("--catalog", type=int, default=Config.catalog, help="services in the catalog")
    parser.add_argument("--requests", type=int, default=Config.requests, help="per run")
    parser.add_argument("--concurrency", type=int, default=Config.concurrency, help="wrk connections")
    parser.add_argument("--workers", type=int, default=Config.workers, help="server processes on PostgreSQL")
    parser.add_argument("--repeat", type=int, default=Config.repeat, help="runs of each scenario per server")
    parser.add_argument("--no-wrk", action="store_true", help="one checked request per scenario, no load")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL, help="a server to create a scratch db on")
    parser.add_argument("--json", type=Path, help="also write every run here")


def common_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """The ``Config`` fields set by ``add_common_arguments``'s options."""
    if make_url(args.postgres_url).host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("benchmarks use a loopback PostgreSQL only")
    return {
        "backends": names(parser, args.backends, ("sqlite", "postgres")),
        "levels": tuple(sorted(int(n) for n in args.levels.split(","))),
        "customers": args.customers,
        "catalog": args.catalog,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "repeat": args.repeat,
        "use_wrk": not args.no_wrk,
        "postgres_url": args.postgres_url,
        "json_out": args.json,
    }


def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api", description=__doc__.split("\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--services-requests", type=int, default=Config.services_requests)
    parser.add_argument("--servers", default=",".join(Config.servers), help="also 'before' with --baseline")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--scale-scenarios", default=",".join(SCALE_SCENARIOS), help="run at levels after the first")
    parser.add_argument("--profile", type=Path, help="record smmpanel's processes with py-spy into this directory")
    parser.add_argument("--baseline", type=Path, help="a checkout to serve as 'before' too (its smmpanel/)")
    args = parser.parse_args(argv)
    servers = names(parser, args.servers, SERVERS)
    if args.baseline is not None and "before" not in servers:
        servers = (*servers, "before")
    if "before" in servers and args.baseline is None:
        parser.error("'before' needs --baseline")
    return Config(
        **common_config(parser, args),
        services_requests=args.services_requests,
        servers=servers,
        scenarios=names(parser, args.scenarios, SCENARIOS + ID_LIST_SCENARIOS),
        scale_scenarios=names(parser, args.scale_scenarios, SCENARIOS + ID_LIST_SCENARIOS),
        profile=args.profile.resolve() if args.profile else None,
        baseline=args.baseline.resolve() if args.baseline else None,
    )


def execute(config: Config, bench: Bench, summarize: Callable[[Sequence[Run]], str]) -> list[Run]:
    """Run ``bench`` on each back end, printing each run as it ends, then all of them and the summary."""
    print(f"# {_machine()}; {config.concurrency} connections, {config.requests} requests per run", flush=True)
    if config.use_wrk:
        print(" | ".join(COLUMNS), flush=True)
    runs = asyncio.run(run(config, bench))
    if config.use_wrk:
        print(table(COLUMNS, [row(r) for r in runs]), flush=True)
        print(summarize(runs), flush=True)
    else:
        print(f"{len(runs)} scenario probes passed", flush=True)
    if config.json_out is not None:
        config.json_out.write_text(json.dumps([asdict(r) for r in runs], indent=1))
    return runs


def main(argv: Sequence[str] | None = None) -> list[Run]:
    return execute(parse_args(argv), bench_backend, summary)


if __name__ == "__main__":
    main()
