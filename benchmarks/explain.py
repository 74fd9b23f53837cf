"""What every operator page, the ``/metrics`` scrape and every kind of engine work ask the database,
and how it answers: every statement they send is explained (``EXPLAIN``, not run twice) as they send it.

``benchmarks.dashboard`` and ``benchmarks.engine --explain`` print this at each level, so that a plan
that reads a whole table (``SEQ SCAN`` on ``orders`` at ten million orders) shows in the benchmark's
output next to the timings. Three kinds of work are explained:

- the use cases behind the order list's searches, the overview and the scrape (``checks``);
- every operator page: each ``GET`` route under ``/admin`` (those naming a record get one from the
  database) and a few of their filters, fetched from the panel itself in this process (its own
  app, lifespan, login form and session), plus the first chunk of each CSV export;
- the order engine: one pass (every claim of every kind of work: sends, status syncs, cancels,
  refills, drip-feed runs, catalogs, provider checks, mail), after ``seed_engine_work`` when the
  caller has a provider to send to, and one batch of the daily archive pass (``archive_batch``).

The work runs for real on the benchmark's database: its writes are the panel's own. On
PostgreSQL each line ends with the top plan node's cost and rows, which is what to compare
between levels; SQLite (``EXPLAIN QUERY PLAN``) has no costs, and its ``SCAN`` also names a
limited walk of an index, so only PostgreSQL's ``Seq Scan`` of a big growing table is flagged
(``SEQ SCAN``, ``SEQ_SCAN_COST``).

    .venv/bin/python -m benchmarks.explain postgresql://postgres@127.0.0.1:5432/<db> [link-part customer upstream link]
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import sys
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine as SyncEngine

from benchmarks.loader import OrderSpec, Panel, load_orders
from smmpanel.app import create_app
from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.dispatch_repositories import DRIPFEED, QUEUED, SENT
from smmpanel.db.engine import create_engine
from smmpanel.db.export_repositories import ExportKind
from smmpanel.db.tables import orders, payment_gateways, payments, providers, refills, services, tickets, users
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.domain.periods import DayRange
from smmpanel.domain.refills import RefillStatus
from smmpanel.engine.worker import Engine
from smmpanel.errors import Refused
from smmpanel.usecases import accounts, exports, operations, order_desk, reports
from smmpanel.usecases.archive import DEFAULT_BATCH
from smmpanel.usecases.order_desk import OrderQuery
from smmpanel.web.admin import routes as admin_routes

GROWING = (
    "orders",
    "orders_archive",
    "ledger_entries",
    "refills",
    "payments",
    "payment_events",
    "audit_log",
    "tickets",
    "ticket_messages",
    "mail_queue",
    "web_sessions",
    "coupon_redemptions",
    "affiliate_commissions",
    "catalog_changes",
    "orders_below_cost",
)
"""Tables that grow with the orders (and the traffic that comes with them): a sequential scan of one is
a finding. (``order_count_deltas`` holds what was written since the last fold, which the same work
does first.)"""
SEQ_SCAN_COST = 1000.0
"""A sequential scan of a growing table is flagged from this estimated cost on (about 25,000 orders): a
small table is rightly read whole, so the flag appears as the table grows, which is the finding."""
ARCHIVE_DAYS = 3650
"""The archive batch moves orders finished longer ago than this: its statements run, nothing moves."""
DAY_MINUTES = 24 * 60
"""What the explained work leaves due is due again a day later (next sync, next drip-feed run): not
during the benchmark's next runs."""
OPERATOR = "explain-operator"
PASSWORD = "explain operator password"
_NODE = re.compile(
    r"(Seq Scan|(?:Index|Index Only) Scan(?: Backward)?|Bitmap (?:Index|Heap) Scan)(?: using (\S+))? on (\w+)"
)
_COST = re.compile(r"cost=[\d.]+\.\.([\d.]+) rows=(\d+)")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_RECORDING: ContextVar[tuple[str, list[str]] | None] = ContextVar("explain_recording", default=None)
"""The name of the work being explained and its lines, for the statements sent in this context."""

Work = Callable[[Database], Awaitable[object]]


def _plan(cursor: Any, statement: str, parameters: Any, sqlite: bool) -> tuple[list[str], bool, str]:
    """(the scans, whether one reads a big growing table whole, the top node's cost) of one statement."""
    if sqlite:
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        details = [str(row[-1]) for row in cursor.fetchall()]
        return sorted({d for d in details if d.startswith(("SCAN", "SEARCH"))}), False, ""
    cursor.execute("EXPLAIN " + statement, parameters)
    plan = [str(row[0]) for row in cursor.fetchall()]
    scans, whole = set(), False
    for line in plan:
        for kind, index, table in _NODE.findall(line):
            scans.add(f"{kind} {index or ''} on {table}".replace("  ", " "))
            cost = _COST.search(line)
            whole |= kind == "Seq Scan" and table in GROWING and cost is not None and float(cost[1]) >= SEQ_SCAN_COST
    top = _COST.search(plan[0]) if plan else None
    return sorted(scans), whole, "" if top is None else f" [cost {top[1]}, rows {top[2]}]"


def _explain(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    recording = _RECORDING.get()
    if recording is None or executemany:
        return
    if not statement.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE", "DELETE")):
        return
    name, lines = recording
    scans, whole, cost = _plan(cursor, statement, parameters, conn.dialect.name == "sqlite")
    head = " ".join(statement.split())[:90]
    lines.append(f"{name}: {'SEQ SCAN ' if whole else ''}{'; '.join(scans) or 'no table'}{cost} | {head}")


@contextlib.contextmanager
def recording(name: str, lines: list[str]) -> Iterator[None]:
    """Explain into ``lines``, as ``name``, every statement any engine sends from this context."""
    token = _RECORDING.set((name, lines))
    try:
        yield
    finally:
        _RECORDING.reset(token)


@contextlib.contextmanager
def listening() -> Iterator[None]:
    """The explaining hook on every SQLAlchemy engine, the panel's in this process included."""
    sa.event.listen(SyncEngine, "before_cursor_execute", _explain)
    try:
        yield
    finally:
        sa.event.remove(SyncEngine, "before_cursor_execute", _explain)


def _counted(lines: list[str]) -> list[str]:
    """Each distinct line once, in order, with how often it came (a page that asks per row shows as such)."""
    seen = Counter(lines)
    return [line if seen[line] == 1 else f"{line} (×{seen[line]})" for line in dict.fromkeys(lines)]


async def explained(database_url: str, name: str, work: Work) -> list[str]:
    """One line per distinct statement ``work`` sent: its scans, and ``SEQ SCAN`` first when it reads
    a growing table."""
    db = Database(database_url, pool_size=2, cache_seconds=0)
    lines: list[str] = []
    try:
        with listening(), recording(name, lines):
            await work(db)
    finally:
        await db.close()
    return _counted(lines)


def _search(query: OrderQuery) -> Work:
    return lambda db: order_desk.find_orders(db, query)


def checks(link_part: str, customer: str, upstream_id: str, pasted: str = "") -> dict[str, Work]:
    """The use cases to explain: the name of each piece of work, and the work; ``pasted`` is a whole
    link, as an operator pastes it (the index is asked for its path: ``smmpanel.db.link_search.probe``)."""
    pasted_search = {"admin-search-pasted-link": _search(OrderQuery(text=pasted))} if pasted else {}
    return {
        "metrics": operations.panel_gauges,
        "overview": reports.overview,
        "admin-orders": _search(OrderQuery()),
        "admin-search-link": _search(OrderQuery(text=link_part)),
        **pasted_search,
        "admin-search-customer": _search(OrderQuery(username=customer)),
        "admin-search-upstream": _search(OrderQuery(upstream_id=upstream_id)),
        **{f"export-{kind.value}": _first_export_chunk(kind) for kind in ExportKind},
    }


def _first_export_chunk(kind: ExportKind) -> Work:
    """The CSV export of the last 30 days, as far as its first chunk of rows (the rest is more of the same)."""

    async def work(db: Database) -> None:
        today = utcnow().date()
        pieces = exports.export_csv(db, kind, DayRange(today - timedelta(days=29), today))
        for _header_then_rows in range(2):
            await anext(pieces, None)
        if isinstance(pieces, AsyncGenerator):  # its transaction ends now, not when it is collected
            await pieces.aclose()

    return work


# --- the operator's pages ---------------------------------------------------------------------


FILTERED = (
    "/admin/orders?status=Pending",
    "/admin/orders?status=Completed",
    "/admin/reports?by=provider",
    "/admin/reports?by=customer",
    "/admin/payments?status=completed",
    "/metrics",
)
"""Pages beyond the bare routes: filters an operator uses daily, and the scrape as Prometheus makes it."""
DOWNLOADS = ("/admin/reports/export",)
"""Routes left out of the pages: a download of every record of a range (``checks`` explains its first chunk)."""


async def _records(database_url: str) -> dict[str, str]:
    """One id of each record an ``/admin/.../{id}`` page shows: the newest order and its customer, the
    first provider, service, ticket, payment and gateway ('' where the panel has none)."""
    engine = create_engine(database_url, pool_size=1)
    newest = sa.select(orders.c.id, orders.c.user_id).order_by(orders.c.id.desc()).limit(1)
    firsts = {
        "provider": sa.select(sa.func.min(providers.c.id)),
        "service": sa.select(sa.func.min(services.c.id)),
        "ticket": sa.select(sa.func.min(tickets.c.id)),
        "payment": sa.select(sa.func.min(payments.c.id)),
        "gateway": sa.select(sa.func.min(payment_gateways.c.name)),
    }
    try:
        async with engine.connect() as conn:
            found = {name: (await conn.execute(query)).scalar_one() for name, query in firsts.items()}
            row = (await conn.execute(newest)).first()
            if row is not None:
                found["order"], found["customer"] = row.id, row.user_id
            found["username"] = (
                ""
                if row is None
                else (await conn.execute(sa.select(users.c.username).where(users.c.id == row.user_id))).scalar_one()
            )
    finally:
        await engine.dispose()
    return {name: "" if value is None else str(value) for name, value in found.items()}


def page_paths(records: dict[str, str]) -> list[str]:
    """Every operator ``GET`` page, each route once (a record's page with the record of ``records``),
    and the ``FILTERED`` ones."""
    fill = {
        "/admin/customers/{id:int}": records.get("customer", ""),
        "/admin/orders/{id:int}": records.get("order", ""),
        "/admin/services/{id:int}": records.get("service", ""),
        "/admin/providers/{id:int}": records.get("provider", ""),
        "/admin/tickets/{id:int}": records.get("ticket", ""),
        "/admin/payments/{id:int}": records.get("payment", ""),
        "/admin/gateways/{name}": records.get("gateway", ""),
    }
    paths = []
    for route in admin_routes:
        path = getattr(route, "path", "")
        if "GET" not in (getattr(route, "methods", None) or ()) or not path or path in DOWNLOADS:
            continue
        if "{" in path:
            pattern = re.sub(r"/[^/]*\{[^}]+\}.*$", "", path) + "/"
            record = next((value for key, value in fill.items() if key.startswith(pattern)), "")
            if not record:
                continue  # nothing of the kind in this panel
            path = re.sub(r"\{[^}]+\}", record, path)
        paths.append(path)
    if records.get("username"):
        paths.append(f"/admin/customers?q={records['username']}")
    return [*dict.fromkeys(paths), *FILTERED]


async def _operator(database_url: str) -> None:
    """An operator who can log in with ``PASSWORD`` (made once per database)."""
    db = Database(database_url, pool_size=1, cache_seconds=0)
    try:
        await accounts.create_customer(db, OPERATOR, password=PASSWORD, admin=True)
    except Refused:  # made by an earlier report
        pass
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def _panel(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The panel's own app in this process (no engine), and a client logged in as the operator."""
    await _operator(database_url)
    app = create_app(Settings(database_url=database_url, run_engine=False, cache_seconds=0))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://panel.test", timeout=600) as client:
            form = _CSRF.search((await client.get("/login")).text)
            if form is None:
                raise RuntimeError("/login has no CSRF token")
            login = {"csrf_token": html.unescape(form.group(1)), "username": OPERATOR, "password": PASSWORD}
            answer = await client.post("/login", data=login)
            if answer.status_code != 303:
                raise RuntimeError(f"the operator could not log in: HTTP {answer.status_code}")
            yield client


async def pages(database_url: str) -> list[str]:
    """The explained statements of every operator page (``page_paths``); a page that fails says so
    (``FAILED``), one that is refused shows its status."""
    lines: list[str] = []
    paths = page_paths(await _records(database_url))
    with listening():
        async with _panel(database_url) as client:
            for path in paths:
                page: list[str] = []
                with recording(f"page {path}", page):
                    answer = await client.get(path)
                if answer.status_code >= 500:
                    page.append(f"page {path}: FAILED HTTP {answer.status_code}")
                elif answer.status_code != 200:
                    page.append(f"page {path}: HTTP {answer.status_code}")
                lines += _counted(page)
    return lines


# --- the engine ---------------------------------------------------------------------------------


async def seed_engine_work(database_url: str, panel: Panel, first_upstream_id: int, count: int = 10) -> None:
    """A little of every kind of engine work, due now, for ``panel``'s service and provider: ``count``
    orders to send, ``count`` to sync (the provider's order ids ``first_upstream_id`` onwards, then
    ``2 * count`` more for the next two kinds), ``count`` cancels to forward, ``count`` refills
    (half to send, half to check) and two drip-feed parents with runs to place."""
    now = utcnow()
    sent = await load_orders(
        database_url,
        panel,
        OrderSpec(count=3 * count, status=OrderStatus.IN_PROGRESS, first_provider_order_id=first_upstream_id),
        analyze=False,
    )
    await load_orders(database_url, panel, OrderSpec(count=count, dispatch="queued"), analyze=False)
    drip = await load_orders(database_url, panel, OrderSpec(count=2, dispatch=DRIPFEED), analyze=False)
    cancels, refilled = sent[count : 2 * count], sent[2 * count :]
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                orders.update()
                .where(orders.c.id.between(cancels[0], cancels[-1]))
                .values(cancel_requested=True, cancel_state=QUEUED)
            )
            await conn.execute(
                orders.update()
                .where(orders.c.id.between(drip[0], drip[-1]))
                .values(runs=3, interval=DAY_MINUTES, next_attempt_at=now - timedelta(minutes=1))
            )
            rows = [
                {
                    "order_id": order_id,
                    "user_id": panel.user_id,
                    "status": RefillStatus.PENDING.value,
                    "dispatch": QUEUED if n % 2 else SENT,
                    "provider_refill_id": None if n % 2 else str(n + 1),
                    "created_at": now,
                    "updated_at": now,
                }
                for n, order_id in enumerate(refilled)
            ]
            await conn.execute(refills.insert(), rows)
    finally:
        await engine.dispose()


async def archive_batch(db: Database) -> None:
    """One batch of the daily archive pass, in the middle of the table (older than ``ARCHIVE_DAYS``: nothing
    moves). A pass is one such batch per ``DEFAULT_BATCH`` orders, each costing the same wherever it is:
    explaining a whole pass at ten million orders would take ten thousand batches to say the same."""
    engine = create_engine(db.url, pool_size=1)
    try:
        async with engine.connect() as conn:
            middle = int((await conn.execute(sa.select(sa.func.max(orders.c.id)))).scalar_one() or 0) // 2
    finally:
        await engine.dispose()
    async with db.write() as repos:
        await repos.orders.archive.move(utcnow() - timedelta(days=ARCHIVE_DAYS), DEFAULT_BATCH, middle)


async def engine_pass(db: Database) -> None:
    """One engine pass over whatever is due (the archive pass is ``archive_batch``), then its leave."""
    settings = Settings(database_url=db.url, provider_check_interval=1, sync_interval=DAY_MINUTES * 60)
    engine = Engine(db, settings)
    try:
        await engine.run_pass()
    finally:
        await engine.aclose()


async def report(
    database_url: str, link_part: str, customer: str, upstream_id: str, pasted: str = "", *, engine: str = "engine-pass"
) -> str:
    """Every line of the report, each beginning ``# explain``; ``engine`` names the engine pass's lines
    (say what was due)."""
    lines = []
    for name, work in checks(link_part, customer, upstream_id, pasted).items():
        lines += await explained(database_url, name, work)
    lines += await pages(database_url)
    lines += await explained(database_url, engine, engine_pass)
    lines += await explained(database_url, "engine-archive-batch", archive_batch)
    return "\n".join(f"# explain {line}" for line in lines)


DEFAULTS = ("bench1", "bench", "1", "https://instagram.com/p/bench1")
"""What the searches look for, unless the command line says: a link part, a customer, an upstream id, a link."""

if __name__ == "__main__":
    given = sys.argv[2:6]
    print(asyncio.run(report(sys.argv[1], *given, *DEFAULTS[len(given) :])))
