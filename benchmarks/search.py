"""The operator's order search at ten million orders on PostgreSQL: every search explained as it is sent.

Issue #16 asks that ``/admin/orders`` finds an order by a part of its link, by customer and by
the provider's order id in under 50 ms at 10M orders. This loads a database once with
``benchmarks.loader`` (100,000 customers, 1 % of the orders the ``bench`` customer's, statuses
cycled as in ``benchmarks.dashboard``, every order forwarded with an upstream id equal to its own
id, links from ``benchmarks.links``: real hosts and paths, one order in ten the pathological
``https://instagram.com/p/bench<id>``), keeps it under ``--database`` so that later runs reuse it,
and then runs each search through ``order_desk.find_orders``, the use case the page calls:

- ``cold``: the first run of a search never run before; each statement on ``orders`` is sent as
  ``EXPLAIN (ANALYZE, BUFFERS)`` first (shared buffers are 128 MB here: "read" counts pages that
  came from the OS cache or the disk);
- ``warm``: the best of three runs of the whole use case, in process (ms), and its plans again.

It prints one line per search (rows found, the statements' execution time from EXPLAIN, the
use case's wall time, the scans) and writes every plan to ``--plans``.

``--backend sqlite`` loads a SQLite file instead (``--sqlite-path``, kept the same way) and
prints, per search, the best wall time of three runs of the use case, the process's CPU time
for it (SQLite runs in the process) and ``EXPLAIN QUERY PLAN`` of each statement on ``orders``.

    .venv/bin/python -m benchmarks.search --orders 10000000 --database smmpanel_search
    .venv/bin/python -m benchmarks.search --database smmpanel_search --drop     # when done
    .venv/bin/python -m benchmarks.search --backend sqlite --orders 1000000 --customers 10000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks import links
from benchmarks.api import POSTGRES_ADMIN_URL, pg_execute
from benchmarks.dashboard import STATUSES
from benchmarks.loader import OrderSpec, create_customers, create_panel, load_orders, migrate
from smmpanel.db.engine import create_engine
from smmpanel.db.tables import orders
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.usecases import order_desk
from smmpanel.usecases.order_desk import OrderQuery

CUSTOMERS = 100_000
HEADER = (
    "| search | rows | cold: EXPLAIN ms | buffers hit/read | warm: EXPLAIN ms | warm: backend CPU ms"
    " | warm: use case ms | plan | load |"
)
SQLITE_HEADER = "| search | rows | first run ms | best of 3 ms | its CPU ms | plan | load |"
CPU_RUNS = 10
SLOW_MS = 1000.0
"""Statements slower than this are not run ``CPU_RUNS`` times more."""
WHALE_SHARE = 100
"""One order in this many is the ``bench`` customer's."""
WITH_STATUS = (0, 5, 6, 8, 15, 16)
"""The searches (by position in ``searches``) asked again with a status."""
IN_PROGRESS = (5, 6)
"""Asked again with the most common status (In progress, 9 orders in 11)."""
WITH_CUSTOMER = (5, 6, 9)
"""Asked again for the ``bench`` customer (1 % of the orders)."""
PAGED = (5, 6, 8, 13, 15)
"""The searches asked for their 2nd and 10th pages."""
_SCAN = r"(?:Parallel )?(?:Seq Scan|Index Only Scan|Index Scan(?: Backward)?|Bitmap Index Scan)"
_NODE = re.compile(rf"({_SCAN})[^\n]*?(?: on| using) (\S+)")
_ON_ORDERS = re.compile(r"\bFROM orders\b")
_SQLITE_SCAN = re.compile(r"^(?:SEARCH|SCAN) orders(?:_link_search)? .*$", re.MULTILINE)
"""The steps of a SQLite plan on the hot table and its FTS5 index (the archive, empty here, left out)."""
_EXECUTION = re.compile(r"Execution Time: ([\d.]+) ms")
_BUFFERS = re.compile(r"^\s+Buffers: shared (?:hit=(\d+))? ?(?:read=(\d+))?", re.MULTILINE)


@dataclass(frozen=True)
class Search:
    name: str
    query: OrderQuery
    page: int = 1
    """1: the first page; n: the n-th, reached through the "Older" cursor of each page before it."""


class _Owners(Sequence[int]):
    """The customer of each loaded order: ``whale`` for one in ``WHALE_SHARE``, a hashed pick otherwise."""

    def __init__(self, whale: int, others: Sequence[int], count: int) -> None:
        self.whale, self.others, self.count = whale, others, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: Any) -> Any:
        if index % WHALE_SHARE == 0:
            return self.whale
        return self.others[links.mix(index) % len(self.others)]


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def exists(admin_url: str, name: str) -> bool:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


async def ensure_loaded(admin_url: str, name: str, count: int, customers: int = CUSTOMERS) -> str:
    """The database ``name`` with ``count`` orders: made and loaded when it does not exist yet."""
    url = database_url(admin_url, name)
    if await exists(admin_url, name):
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                held = (await conn.execute(sa.select(sa.func.count()).select_from(orders))).scalar_one()
        finally:
            await engine.dispose()
        print(f"# reusing {name}: {held:,} orders", flush=True)
        return url
    await pg_execute(admin_url, f'CREATE DATABASE "{name}"')
    started = time.monotonic()
    await load(url, name, count, customers)
    loaded = time.monotonic()
    await pg_execute(url, "VACUUM (ANALYZE) orders, ledger_entries")
    await pg_execute(url, "CHECKPOINT")
    print(
        f"# loaded in {loaded - started:.0f} s, vacuumed and checkpointed in {time.monotonic() - loaded:.0f} s"
        f" (load {load_average()})",
        flush=True,
    )
    return url


async def load(url: str, name: str, count: int, customers: int) -> None:
    """Migrate the empty database ``url`` and load ``count`` orders of ``customers`` customers into it."""
    print(f"# loading {count:,} orders into {name} (load {load_average()})", flush=True)
    await asyncio.to_thread(migrate, url)
    panel = await create_panel(
        url, provider_url="http://127.0.0.1:9/api/v2", provider_key="unused", balance="100000000.00"
    )
    others = [user for user, _ in await create_customers(url, customers - 1)]
    spec = OrderSpec(
        count=count,
        dispatch="sent",
        user_ids=_Owners(panel.user_id, others, count),
        statuses=STATUSES,
        links=links.Links(1, count),
    )
    await load_orders(url, panel, spec)


async def ensure_sqlite(path: Path, count: int, customers: int) -> str:
    """The SQLite file ``path`` with ``count`` orders: made and loaded when it does not exist yet
    (no ``ANALYZE``: the panel never runs one, so its planner has no statistics either)."""
    url = f"sqlite:///{path}"
    if path.exists():
        print(f"# reusing {path}", flush=True)
        return url
    started = time.monotonic()
    await load(url, str(path), count, customers)
    print(f"# loaded in {time.monotonic() - started:.0f} s (load {load_average()})", flush=True)
    return url


def searches(count: int) -> list[Search]:
    """What an operator types, for data loaded by ``ensure_loaded``: rare, medium and common parts of
    links, whole links pasted, short parts, a customer, an upstream id, with a status, and later pages."""
    middle = count // 2
    post = links.parts(links.first_with(middle, lambda p: p.link.startswith("https://www.instagram.com/p/")))
    video = links.parts(links.first_with(middle, lambda p: "/video/" in p.link))
    bench = links.first_with(middle, lambda p: p.link.startswith(links.PATHOLOGICAL))
    pending = OrderStatus.PENDING
    made = [
        Search("link rare: a post's code", OrderQuery(text=post.code or "")),
        Search("link rare: a video id", OrderQuery(text=video.code or "")),
        Search("link rare: whole post link pasted", OrderQuery(text=post.link)),
        Search("link rare: whole video link pasted", OrderQuery(text=video.link)),
        Search("link rare: in no order", OrderQuery(text="zqxjwv")),
        Search("link medium: a popular username", OrderQuery(text=links.username(29))),
        Search("link medium: a username, ~1,700 orders", OrderQuery(text=links.username(300))),
        Search("link medium: a username, ~170 orders", OrderQuery(text=links.username(3000))),
        Search("link common: tiktok.com/@", OrderQuery(text="tiktok.com/@")),
        Search("link common: youtube", OrderQuery(text="youtube")),
        Search("link host, pasted: https://t.me/", OrderQuery(text="https://t.me/")),
        Search("link short: p/", OrderQuery(text="p/")),
        Search("link short: in no order", OrderQuery(text="~~")),
        Search("link pathological: bench<id>", OrderQuery(text=f"bench{bench}")),
        Search("link pathological: pasted", OrderQuery(text=f"{links.PATHOLOGICAL}{bench}")),
        Search("customer: 1 % of the orders", OrderQuery(username="bench")),
        Search("customer: ~100 orders", OrderQuery(username="customer4242")),
        Search("upstream id", OrderQuery(upstream_id=str(middle))),
        Search("order id", OrderQuery(text=str(middle))),
    ]
    filtered = [
        replace(made[i], name=made[i].name + " + Pending", query=replace(made[i].query, status=pending))
        for i in WITH_STATUS
    ]
    common = OrderStatus.IN_PROGRESS
    filtered += [
        replace(made[i], name=made[i].name + " + In progress", query=replace(made[i].query, status=common))
        for i in IN_PROGRESS
    ]
    filtered += [
        replace(made[i], name=made[i].name + " + customer bench", query=replace(made[i].query, username="bench"))
        for i in WITH_CUSTOMER
    ]
    paged = [replace(made[i], name=f"{made[i].name}, page {page}", page=page) for i in PAGED for page in (2, 10)]
    return made + filtered + paged


@dataclass
class Explained:
    plans: list[str]
    cpu_ms: float = 0.0
    process_ms: float = 0.0

    def summary(self) -> tuple[float, str, str]:
        """Execution ms summed over the statements on ``orders``, their buffers, their scans."""
        ms = sum(float(found) for plan in self.plans for found in _EXECUTION.findall(plan))
        hit = read = 0
        for plan in self.plans:
            first = _BUFFERS.search(plan)  # the top node's: the statement's whole
            if first:
                hit += int(first.group(1) or 0)
                read += int(first.group(2) or 0)
        scans = []
        for plan in self.plans:
            scans.append("+".join(dict.fromkeys(f"{kind} {name}" for kind, name in _NODE.findall(plan))))
        jit = " JIT" if any("JIT:" in plan for plan in self.plans) else ""
        return ms, f"{hit}/{read}", " ; ".join(scans) + jit


class Explainer:
    """Sends each statement on ``orders`` as ``EXPLAIN (ANALYZE, BUFFERS)`` first while ``plans`` is a list.

    Listens from before the first statement: an engine's event added once connections exist is
    not seen by the reads' autocommit engine (``Database._reader``).
    """

    def __init__(self, db: Database) -> None:
        self.plans: list[str] | None = None
        self.cpu_ms = 0.0
        """The PostgreSQL backend's CPU time (user + system) for the statements on ``orders``, each
        run ``CPU_RUNS`` times after its EXPLAIN: steadier than wall time on a shared machine."""
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", self.hook)

    def hook(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if (
            self.plans is None
            or not _ON_ORDERS.search(statement)
            or not statement.lstrip().upper().startswith("SELECT")
        ):
            return
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = "\n".join(str(row[0]) for row in cursor.fetchall())
        self.plans.append(plan)
        if sum(float(ms) for ms in _EXECUTION.findall(plan)) > SLOW_MS:
            return
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchall()[0][0])
        started = _backend_cpu(pid)
        for _ in range(CPU_RUNS):
            cursor.execute(statement, parameters)
            cursor.fetchall()
        self.cpu_ms += (_backend_cpu(pid) - started) * 1000 / CPU_RUNS


class QueryPlans:
    """SQLite's ``Explainer``: each statement on ``orders`` as ``EXPLAIN QUERY PLAN`` first; no backend
    to measure apart (``cpu_ms`` stays 0: the use case's CPU is the process's own, see ``run``)."""

    def __init__(self, db: Database) -> None:
        self.plans: list[str] | None = None
        self.cpu_ms = 0.0
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", self.hook)

    def hook(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if (
            self.plans is None
            or not _ON_ORDERS.search(statement)
            or not statement.lstrip().upper().startswith("SELECT")
        ):
            return
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        self.plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))


def _backend_cpu(pid: int) -> float:
    """Seconds of CPU a process has used (``/proc/<pid>/stat``: PostgreSQL runs on this machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(
    db: Database, explainer: Explainer | QueryPlans, search: Search, explain: bool
) -> tuple[int, float, Explained]:
    """The search's page, as the page asks for it; the rows, the wall ms of that page's call, the plans
    (and in ``process_ms`` the CPU time this process spent on that call)."""
    before = None
    for _ in range(search.page - 1):
        page = await order_desk.find_orders(db, search.query, before=before)
        if page.older is None:
            break
        before = page.older
    explained = Explained([])
    explainer.plans, explainer.cpu_ms = (explained.plans if explain else None), 0.0
    try:
        started, cpu = time.perf_counter(), time.process_time()
        found = await order_desk.find_orders(db, search.query, before=before)
        wall = (time.perf_counter() - started) * 1000
        explained.process_ms = (time.process_time() - cpu) * 1000
    finally:
        explainer.plans = None
    explained.cpu_ms = explainer.cpu_ms
    return len(found.items), wall, explained


async def measure(url: str, chosen: Sequence[Search], plans: Path) -> dict[str, int]:
    """Print a line per search and write its plans to ``plans``; answers how many rows each found."""
    found: dict[str, int] = {}
    db = Database(url, pool_size=2, cache_seconds=0)
    explainer = Explainer(db)
    out = plans.open("w")
    try:
        print(HEADER)
        print("|---|---|---|---|---|---|---|---|---|")
        for search in chosen:
            rows, _, cold = await run(db, explainer, search, True)
            found[search.name] = rows
            best = min([(await run(db, explainer, search, False))[1] for _ in range(3)])
            _, _, warm = await run(db, explainer, search, True)
            cold_ms, cold_buffers, _ = cold.summary()
            warm_ms, _, scans = warm.summary()
            print(
                f"| {search.name} | {rows} | {cold_ms:.1f} | {cold_buffers} | {warm_ms:.1f} | {warm.cpu_ms:.1f}"
                f" | {best:.1f} | {scans}"
                f" | {load_average()} |",
                flush=True,
            )
            out.write(f"## {search.name}: {search.query}, page {search.page}\n# cold\n")
            out.write("\n\n".join(cold.plans) + "\n# warm\n" + "\n\n".join(warm.plans) + "\n\n")
    finally:
        out.close()
        await db.close()
    return found


async def measure_sqlite(url: str, chosen: Sequence[Search], plans: Path) -> dict[str, int]:
    """``measure`` on SQLite: the best of three runs' wall ms, that run's process CPU ms, the query plans."""
    found: dict[str, int] = {}
    db = Database(url, pool_size=2, cache_seconds=0)
    planner = QueryPlans(db)
    out = plans.open("w")
    try:
        print(SQLITE_HEADER)
        print("|---|---|---|---|---|---|---|")
        for search in chosen:
            rows, cold_ms, explained = await run(db, planner, search, True)
            found[search.name] = rows
            best = min([(await run(db, planner, search, False))[1:] for _ in range(3)], key=lambda run: run[0])
            page = [plan for plan in explained.plans if "UNION ALL" in plan]  # keyset_union's, not the probes'
            scans = " + ".join(dict.fromkeys(step for plan in page for step in _SQLITE_SCAN.findall(plan)))
            print(
                f"| {search.name} | {rows} | {cold_ms:.1f} | {best[0]:.1f} | {best[1].process_ms:.1f} | {scans}"
                f" | {load_average()} |",
                flush=True,
            )
            out.write(f"## {search.name}: {search.query}, page {search.page}\n" + "\n\n".join(explained.plans) + "\n\n")
    finally:
        out.close()
        await db.close()
    return found


async def main_async(args: argparse.Namespace) -> dict[str, int]:
    sqlite = args.backend == "sqlite"
    if args.drop:
        if sqlite:
            args.sqlite_path.unlink(missing_ok=True)
        else:
            await pg_execute(args.postgres_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        print(f"# dropped {args.sqlite_path if sqlite else args.database}")
        return {}
    chosen = [
        s
        for s in searches(args.orders)
        if (not args.only or any(part in s.name for part in args.only))
        and not any(part in s.name for part in args.skip)
    ]
    if sqlite:
        return await measure_sqlite(
            await ensure_sqlite(args.sqlite_path, args.orders, args.customers), chosen, args.plans
        )
    url = await ensure_loaded(args.postgres_url, args.database, args.orders, args.customers)
    return await measure(url, chosen, args.plans)


def main(argv: Sequence[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000_000, help="how many to load into a new database")
    parser.add_argument("--database", default="smmpanel_search", help="kept between runs; --drop to remove it")
    parser.add_argument("--customers", type=int, default=CUSTOMERS, help="for a new database")
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--sqlite-path", type=Path, default=Path("search-bench.sqlite"), help="kept between runs")
    parser.add_argument("--plans", type=Path, default=Path("search-plans.txt"))
    parser.add_argument("--only", nargs="*", default=[], help="searches whose name holds one of these")
    parser.add_argument("--skip", nargs="*", default=[], help="but not those whose name holds one of these")
    parser.add_argument("--drop", action="store_true")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
