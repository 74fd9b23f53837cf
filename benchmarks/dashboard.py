"""Dashboard order lists: the customer's and the operator's order pages, at 10,000 and 1,000,000 orders.

Issue #5 asks that the order list "stays fast with a million orders in the database": the
lists page by keyset (``smmpanel.db.keyset``) along the indexes of migration 0004. This
measures it with ``benchmarks.api``'s machinery: the same scratch databases, data (the same
catalog and customers; orders bulk-loaded by ``benchmarks.loader``, 1 % of them the benchmark
customer's, spread over the whole table) and servers (``python -m smmpanel serve`` on SQLite,
``serve --workers N --no-engine`` on PostgreSQL), driven by ``wrk`` for a fixed number of
requests. Here the orders' statuses cycle through ``STATUSES`` (Pending and Processing 1 in
11 each, In progress the rest) and each order has a link of its own. After each load
PostgreSQL is vacuumed and checkpointed, so that runs do not race autovacuum.

The benchmark customer and an operator log in once per server through the real ``/login``
form (CSRF token and all); wrk sends their session cookie. Scenarios (GET, every answer
HTTP 200 with the list's table; one answer per scenario is checked by hand first):

``orders``               the customer's ``/orders``, first page
``orders-status``        ``/orders?status=In progress``
``orders-search``        ``/orders?q=<link>``: one of the customer's links, matched exactly
``orders-deep``          ``/orders?before=<id>``: the page in the middle of the customer's
                         orders, the cursor the "Older" link carries (both links must show)
``admin-orders``         the operator's ``/admin/orders``, first page (everyone's orders)
``admin-orders-status``  ``/admin/orders?status=Pending``

Each page shows as many rows at 10,000 orders as at 1,000,000 (25 for the customer, 50 for
the operator; one for the search), so that the levels compare like with like.

The summary takes the best of the ``--repeat`` runs of each scenario and prints requests/s,
p50, p99, bad answers (non-2xx, pages without the table, socket errors), the least CPU time
per request of the server's processes (steadier than latency on a busy machine) and, at each
level after the first, p50 over p50 at the first level (goal: within 1.3×). Defaults: 4 wrk
connections (a page is several API calls' work), 1,000 requests per run.

    .venv/bin/python -m benchmarks.dashboard                    # both back ends, 10,000 then 1,000,000
    .venv/bin/python -m benchmarks.dashboard --backends sqlite --levels 10000 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa

from benchmarks import explain
from benchmarks.api import (
    Config,
    Dataset,
    Run,
    Server,
    Traffic,
    add_common_arguments,
    best,
    common_config,
    execute,
    least_cpu,
    level_up,
    load,
    names,
    p50_vs_first,
    prepare,
    scratch_database,
    served,
    table,
    tell,
)
from smmpanel.db.engine import create_engine
from smmpanel.db.tables import orders, providers
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.usecases import accounts
from smmpanel.usecases.paging import DEFAULT_SIZE

SCENARIOS = (
    "orders",
    "orders-status",
    "orders-search",
    "orders-deep",
    "admin-orders",
    "admin-orders-status",
    "admin-search-link",
    "admin-search-customer",
    "admin-search-upstream",
    "admin-overview",
    "metrics",
)
STATUSES = (OrderStatus.PENDING, OrderStatus.PROCESSING, *[OrderStatus.IN_PROGRESS] * 9)
"""Cycled over the loaded orders: 11 is prime to ``api.BENCH_SHARE``, so the customer's orders get all three."""
LINK = "https://instagram.com/p/bench"
CUSTOMER_FILTER = OrderStatus.IN_PROGRESS
"""The customer's status filter: common enough to fill a page at 10,000 orders (the customer has 100) as at 1M."""
ADMIN_FILTER = OrderStatus.PENDING
ADMIN = "operator"
PASSWORD = "benchmark password"
CUSTOMER_TABLE = '<table class="orders">'
ADMIN_TABLE = '<table id="orders">'
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REQUESTS = 1_000
CONCURRENCY = 4


@dataclass(frozen=True)
class Page:
    """One scenario: a page of a list as the customer (or the operator) asks for it."""

    name: str
    path: str
    admin: bool
    marks: tuple[str, ...] = ()
    """What the checked answer must hold besides the table: a deep page's two pager links, a found link."""
    shows: str | None = None
    """What every answer must hold, when it is not the list's table."""

    @property
    def table(self) -> str:
        return self.shows or (ADMIN_TABLE if self.admin else CUSTOMER_TABLE)

    def traffic(self, cookie: str) -> Traffic:
        return Traffic("GET", [(self.path, None)], {"Cookie": cookie}, expect=self.table)


def upstream_id(order_id: int) -> str:
    """The provider's order id ``mark_upstream`` gives an order."""
    return f"up-{order_id}"


def pages(data: Dataset, chosen: Sequence[str], customer: str) -> list[Page]:
    """The scenarios in ``chosen``, for the orders loaded so far."""
    mine = data.bench_orders  # oldest first
    middle = len(mine) // 2
    link = f"{LINK}{mine[middle]}"  # the middle order's own: each order's link ends in its id
    deep_marks = ('rel="prev"', 'rel="next"') if middle > DEFAULT_SIZE else ('rel="prev"',)  # more than a page older
    made = {
        "orders": Page("orders", "/orders", False),
        "orders-status": Page("orders-status", "/orders?" + urlencode({"status": CUSTOMER_FILTER.value}), False),
        "orders-search": Page(
            "orders-search", "/orders?" + urlencode({"q": link}), False, (f'<td class="link">{link}</td>',)
        ),
        "orders-deep": Page("orders-deep", f"/orders?before={mine[middle]}", False, deep_marks),
        "admin-orders": Page("admin-orders", "/admin/orders", True, ('rel="next"',)),
        "admin-orders-status": Page(
            "admin-orders-status", "/admin/orders?" + urlencode({"status": ADMIN_FILTER.value}), True
        ),
        # The operator's search by a part of a link only one order has (its number ends the link),
        # by customer (the benchmark customer's newest, up to 50) and by the provider's order id.
        "admin-search-link": Page(
            "admin-search-link", "/admin/orders?" + urlencode({"q": f"bench{mine[middle]}"}), True, (link,)
        ),
        "admin-search-customer": Page(
            "admin-search-customer", "/admin/orders?" + urlencode({"customer": customer}), True
        ),
        "admin-search-upstream": Page(
            "admin-search-upstream",
            "/admin/orders?" + urlencode({"upstream": upstream_id(mine[middle])}),
            True,
            (link,),
        ),
        "admin-overview": Page("admin-overview", "/admin", True, shows='id="revenue-today"'),
        "metrics": Page("metrics", "/metrics", True, shows='smmpanel_orders{status="In progress"}'),
    }
    return [made[name] for name in chosen]


async def add_logins(data: Dataset) -> str:
    """A password for the benchmark customer and an operator account (through the use cases, as the
    CLI makes them); answers the customer's username."""
    db = Database(data.url, pool_size=1, cache_seconds=0)
    try:
        customer = await accounts.customer_by_id(db, data.bench_user)
        assert customer is not None
        await accounts.set_password(db, customer.username, PASSWORD)
        await accounts.create_customer(db, ADMIN, password=PASSWORD, admin=True)
    finally:
        await db.close()
    return customer.username


async def mark_upstream(data: Dataset, order_id: int) -> None:
    """Give the order a provider and the provider's order id (``upstream_id``), for the search by it."""
    engine = create_engine(data.url, pool_size=1)
    try:
        async with engine.begin() as conn:
            provider = (await conn.execute(sa.select(sa.func.min(providers.c.id)))).scalar_one()
            values = {"provider_id": provider, "provider_order_id": upstream_id(order_id)}
            await conn.execute(orders.update().where(orders.c.id == order_id).values(**values))
    finally:
        await engine.dispose()


def log_in(server: Server, username: str) -> str:
    """Log in through the ``/login`` form as a browser does; the ``Cookie`` header of the session."""
    with httpx.Client(base_url=server.origin, timeout=30) as http:
        form = CSRF.search(http.get("/login").text)
        if form is None:
            raise RuntimeError("/login has no CSRF token")
        token = html.unescape(form.group(1))
        answer = http.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
        if answer.status_code != 303 or "login" in answer.headers.get("location", "login"):
            raise RuntimeError(f"{username} could not log in: HTTP {answer.status_code} {answer.text[:300]}")
        http.get(answer.headers["location"])  # the landing page: the session as a browser then holds it
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def probe(server: Server, page: Page, cookie: str) -> None:
    """One request by hand: HTTP 200 with the table (and the page's marks), as every request must be."""
    answer = httpx.get(server.origin + page.path, headers={"Cookie": cookie}, timeout=60)
    if answer.status_code != 200:
        raise RuntimeError(f"{page.name}: HTTP {answer.status_code}: {answer.text[:300]}")
    missing = [mark for mark in (page.table, *page.marks) if mark not in answer.text]
    if missing:
        raise RuntimeError(f"{page.name}: {page.path} answered without {missing}")


def measure(server: Server, page: Page, cookie: str, config: Config, workdir: Path, run: Run) -> Run:
    probe(server, page, cookie)
    return load(server, page.name, page.traffic(cookie), config.requests, config, workdir, run)


async def bench_backend(config: Config, backend: str, workdir: Path, runs: list[Run]) -> None:
    async with scratch_database(config, backend, workdir) as url:
        data = Dataset(url, backend)
        started = time.monotonic()
        await prepare(data, config)
        customer = await add_logins(data)
        for level in config.levels:
            await level_up(data, config, level, started, statuses=STATUSES, numbered_link=LINK)
            middle = data.bench_orders[len(data.bench_orders) // 2]
            await mark_upstream(data, middle)
            if backend == "postgres":
                plans = await explain.report(
                    data.url, f"bench{middle}", customer, upstream_id(middle), f"{LINK}{middle}"
                )
                print(plans, flush=True)
            for repeat in range(1, config.repeat + 1):
                async with served("smmpanel", data, config, workdir, f"dash-{backend}-{level}-{repeat}") as server:
                    cookies = {
                        admin: await asyncio.to_thread(log_in, server, ADMIN if admin else customer)
                        for admin in (False, True)
                    }
                    for page in pages(data, config.scenarios, customer):
                        run = Run(backend, level, "smmpanel", page.name, repeat)
                        await asyncio.to_thread(measure, server, page, cookies[page.admin], config, workdir, run)
                        runs.append(run)
                        tell(run, config)


def summary(runs: Sequence[Run]) -> str:
    """The best run per (backend, level, scenario), and its p50 against the first level's."""
    rows = []
    for backend, level, scenario in dict.fromkeys((r.backend, r.level, r.scenario) for r in runs):
        where = {"backend": backend, "level": level, "scenario": scenario}
        found = best(runs, **where)
        assert found is not None
        bad = found.non_2xx + found.json_errors + found.socket_errors
        rows.append(
            [
                backend,
                f"{level:,}",
                scenario,
                f"{found.rps:,.0f}",
                f"{found.p50_ms:.2f}",
                f"{found.p99_ms:.2f}",
                str(bad),
                f"{least_cpu(runs, **where):.2f}",
                p50_vs_first(runs, found),
            ]
        )
    header = (
        "backend",
        "orders",
        "scenario",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "CPU ms/req",
        "p50 vs first level",
    )
    return table(header, rows)


def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard", description=__doc__.split("\n")[0])
    add_common_arguments(parser)
    parser.set_defaults(requests=REQUESTS, concurrency=CONCURRENCY)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args(argv)
    return Config(
        **common_config(parser, args), servers=("smmpanel",), scenarios=names(parser, args.scenarios, SCENARIOS)
    )


def main(argv: Sequence[str] | None = None) -> list[Run]:
    return execute(parse_args(argv), bench_backend, summary)


if __name__ == "__main__":
    main()
