"""The operator's order search on its indexes (migration 0024) answers what the scan answered.

Each search runs through ``order_desk.find_orders`` and is compared with today's query run
directly (``lower(link) LIKE lower('%part%')``, wildcards literal), on both back ends: the
pg_trgm index on PostgreSQL, the FTS5 trigram table on SQLite, and the short parts that
neither index can answer (looked for among the newest order numbers only).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from smmpanel.clock import utcnow
from smmpanel.db import link_search
from smmpanel.db.migrate import alembic_config
from smmpanel.db.tables import ledger_entries, orders, providers
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.usecases import accounts, order_desk
from smmpanel.usecases import orders as order_cases
from tests.support.panel import Panel

LINKS = [
    "https://instagram.com/p/AbC_123",
    "https://instagram.com/p/abc%123",
    "https://www.YouTube.com/watch?v=Zz9_x",
    "https://t.me/ÄrgerNews/42",
    "https://t.me/ärgernews/43",
    "https://tiktok.com/@who/video/777",
    "https://instagram.com/p/XYZ",
    "instagram.com/ali.max6",
    "https://le.example/r?u=https://www.instagram.com/p/Qrs_9",
]
PARTS = [
    "abc",
    "ABC_1",
    "c%1",
    "_12",
    "youtube",
    "v=zz9",
    "ärger",
    "ÄRGER",
    "news/4",
    "o/7",
    "p/",
    "/",
    "nothing here",
    # a whole link pasted, in any case; a host and path; a host alone; a part that starts inside a host
    "https://www.instagram.com/p/Qrs_9",
    "HTTPS://WWW.INSTAGRAM.COM/P/QRS_9",
    "https://instagram.com/p/abc",
    "instagram.com/p/",
    "instagram.com/ali",
    "instagram.com",
    "https://t.me/",
    "t.me/ärger",
    "www.youtube.com/watch?v=zz9_x",
    "tiktok.com/@who/video/777",
    "ample/r?u=",
    "le.example/r?u",
    "e.example/r",
    "https://le.example/r",
]


@pytest.fixture
def panel(database_url: str) -> Iterator[Panel]:
    """The operator's side of a panel on the test's database, driven through the use cases."""
    driver = Panel(database_url)
    yield driver
    driver.close()


def _seed(panel: Panel) -> list[int]:
    panel.customer("alice", balance="1000")
    service = panel.service()

    async def work(db: Database) -> list[int]:
        user = next(user for user in await accounts.list_customers(db) if user.username == "alice")
        params = {"service": str(service), "quantity": "100"}
        return [await order_cases.place_order(db, user.id, {**params, "link": link}) for link in LINKS]

    return panel.run(work)


def _found(panel: Panel, **query: object) -> list[int]:
    async def work(db: Database) -> list[int]:
        page = await order_desk.find_orders(db, order_desk.OrderQuery(**query))  # type: ignore[arg-type]
        return [row.order.id for row in page.items]

    return panel.run(work)


def _scanned(panel: Panel, part: str) -> list[int]:
    """Today's search: every order's link tested, newest first."""

    async def work(db: Database) -> list[int]:
        async with db.engine.connect() as conn:
            query = sa.select(orders.c.id).where(orders.c.link.icontains(part, autoescape=True))
            return [int(row.id) for row in await conn.execute(query.order_by(orders.c.id.desc()))]

    return panel.run(work)


def test_a_link_search_finds_what_the_scan_found(panel: Panel) -> None:
    ids = _seed(panel)
    for part in PARTS:
        assert _found(panel, text=part) == _scanned(panel, part), part
    assert _found(panel, text="abc") == [ids[1], ids[0]]
    assert _found(panel, text="c%1") == [ids[1]]  # % is a character, not a wildcard
    assert _found(panel, text="ABC_1") == [ids[0]]
    assert _found(panel, text="nothing here") == []
    # a pasted link: found in the path of another link too, in any case, and wildcards literal
    assert _found(panel, text="https://www.instagram.com/p/Qrs_9") == [ids[8]]
    assert _found(panel, text="HTTPS://WWW.INSTAGRAM.COM/P/QRS_9") == [ids[8]]
    assert _found(panel, text="https://instagram.com/p/AbC_123") == [ids[0]]
    assert _found(panel, text="https://instagram.com/p/abc") == [ids[1], ids[0]]
    assert _found(panel, text="instagram.com/ali") == [ids[7]]  # a link without a scheme
    assert _found(panel, text="le.example/r?u") == [ids[8]]
    assert _found(panel, text="instagram.com") == [ids[8], ids[7], ids[6], ids[1], ids[0]]


def test_a_link_search_pages_through_every_match_both_ways(panel: Panel) -> None:
    _seed(panel)
    for part in ("instagram.com/p/", "https://www.instagram.com/p/qrs_9", "p/", "instagram"):
        expected = _scanned(panel, part)
        older = _pages(panel, part, "before", None)
        assert [order for page in older for order in page] == expected, part
        assert all(len(page) == 2 for page in older[:-1]), part
        newer = _pages(panel, part, "after", expected[-1])
        assert [order for page in reversed(newer) for order in page] == expected[:-1], part


def _pages(panel: Panel, part: str, direction: str, start: int | None) -> list[list[int]]:
    """Every page of two orders from the cursor ``start`` on, following the pager's ``direction``."""

    async def work(db: Database) -> list[list[int]]:
        pages, cursor = [], start
        while True:
            where = {direction: cursor} if cursor is not None else {}
            page = await order_desk.find_orders(db, order_desk.OrderQuery(text=part), limit=2, **where)
            if not page.items:
                return pages
            pages.append([row.order.id for row in page.items])
            cursor = page.older if direction == "before" else page.newer
            if cursor is None:
                return pages

    return panel.run(work)


def _common(panel: Panel, part: str) -> bool:
    async def work(db: Database) -> bool:
        async with db.read() as repos:
            return await repos.desk.link_is_common(part)

    return panel.run(work)


def test_a_common_part_is_walked_newest_first_and_finds_the_same(
    panel: Panel, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite walks the orders for a part with many candidates in its FTS5 table (here: two or more);
    PostgreSQL's planner makes that choice itself. The answers stay the scan's."""
    _seed(panel)
    monkeypatch.setattr(link_search, "common_candidates", lambda held: 2)
    sqlite = database_url.startswith("sqlite")
    assert _common(panel, "instagram.com/p/") is sqlite  # five orders' links
    assert _common(panel, "https://www.instagram.com/p/Qrs_9") is False  # its probe in one
    assert _common(panel, "p/") is False  # too short for the index: the newest orders' window
    for part in PARTS:
        assert _found(panel, text=part) == _scanned(panel, part), part
    assert [order for page in _pages(panel, "instagram", "before", None) for order in page] == _scanned(
        panel, "instagram"
    )


def test_a_part_too_short_for_an_index_is_looked_for_among_the_newest_orders_only(
    panel: Panel, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _seed(panel)
    monkeypatch.setattr(link_search, "SHORT_WINDOW", 4)  # the orders ids[5:] only
    assert _scanned(panel, "p/") == [ids[8], ids[6], ids[1], ids[0]]
    assert _found(panel, text="p/") == [ids[8], ids[6]]
    assert _found(panel, text="p/", status=OrderStatus.PENDING) == [ids[8], ids[6]]
    assert _scanned(panel, "t.") == [ids[4], ids[3]]
    assert _found(panel, text="t.") == []  # only older orders have it
    assert _found(panel, text="o/") == [ids[5]]
    assert _found(panel, text="abc") == [ids[1], ids[0]]  # three characters: every order, on the index
    assert order_desk.newest_only(order_desk.OrderQuery(text=" p/ "))
    assert not order_desk.newest_only(order_desk.OrderQuery(text="abc"))
    assert not order_desk.newest_only(order_desk.OrderQuery(text="12"))  # an order id
    assert not order_desk.newest_only(order_desk.OrderQuery(username="alice"))


def test_the_search_follows_changed_and_removed_links(panel: Panel) -> None:
    ids = _seed(panel)
    panel.run(lambda db: order_cases.change_link(db, ids[6], "https://instagram.com/p/Renamed"))
    assert _found(panel, text="renamed") == [ids[6]]
    assert _found(panel, text="p/xyz") == _scanned(panel, "p/xyz") == []
    panel.sql(
        ledger_entries.delete().where(ledger_entries.c.order_id == ids[0]),
        orders.delete().where(orders.c.id == ids[0]),
    )
    assert _found(panel, text="abc") == [ids[1]]


def test_an_upstream_id_finds_its_order_at_any_provider(panel: Panel) -> None:
    ids = _seed(panel)
    now = utcnow()
    made = [{"name": name, "url": f"http://{name}.test/api/v2", "api_key": "k", "created_at": now} for name in "ab"]
    panel.sql(providers.insert().values(made))
    panel.sql(orders.update().where(orders.c.id == ids[2]).values(provider_id=2, provider_order_id="90210"))
    panel.sql(orders.update().where(orders.c.id == ids[3]).values(provider_id=1, provider_order_id="902"))
    assert _found(panel, upstream_id=" 90210 ") == [ids[2]]
    assert _found(panel, upstream_id="902") == [ids[3]]  # exactly, not a part
    assert _found(panel, upstream_id="90210", text="youtube") == [ids[2]]
    assert _found(panel, upstream_id="90210", text="tiktok") == []
    assert _found(panel, upstream_id="1") == []


def _link_planning(panel: Panel) -> tuple[int | None, list[str]]:
    """PostgreSQL's statistics target of ``orders.link`` (None: the server's default) and the
    storage parameters of ``orders``."""

    async def work(db: Database) -> tuple[int | None, list[str]]:
        async with db.engine.connect() as conn:
            query = "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'link'"
            target = (await conn.exec_driver_sql(query)).scalar_one()
            options = (await conn.exec_driver_sql("SELECT reloptions FROM pg_class WHERE relname = 'orders'")).scalar()
            return (None if target in (None, -1) else int(target)), sorted(options or [])

    return panel.run(work)


def test_migration_0026_sets_the_link_statistics_and_takes_them_back(panel: Panel, database_url: str) -> None:
    """PostgreSQL's finer histogram of links (the search's plan choice) and its one-process walk come
    and go, and 0021's storage parameters of ``orders`` stay; SQLite has neither."""
    ids = _seed(panel)
    config = alembic_config(database_url)
    postgres = not database_url.startswith("sqlite")
    targets = [_link_planning(panel) if postgres else None]
    command.downgrade(config, "0025")
    targets.append(_link_planning(panel) if postgres else None)
    assert _found(panel, text="abc") == [ids[1], ids[0]]  # the same answer without it
    command.upgrade(config, "head")
    targets.append(_link_planning(panel) if postgres else None)
    assert _found(panel, text="https://instagram.com/p/abc") == [ids[1], ids[0]]
    if not postgres:
        assert targets == [None, None, None]
        return
    kept = [option for option in targets[1][1] if option.startswith("autovacuum")]
    assert len(kept) == 4  # migration 0021's
    with_0026 = (1000, sorted([*kept, "parallel_workers=0"]))
    assert targets == [with_0026, (None, kept), with_0026]
