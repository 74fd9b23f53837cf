"""The public storefront over real HTTP: the landing page and the services and prices for a visitor
(only what customers may order, searchable, by category, paged, escaped, cheap), and a customer's own
services page at their own rates."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, catalog, pricing, storefront
from tests.integration.test_web_admin import ESCAPED, PASSWORD, XSS, Session
from tests.support.panel import Panel
from tests.support.server import LiveServer


def listed(page: httpx.Response) -> list[int]:
    return [int(found) for found in re.findall(r'<tr id="service-(\d+)">', page.text)]


def rate_of(page: httpx.Response, service_id: int) -> str:
    row = re.search(rf'<tr id="service-{service_id}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    found = re.search(r'class="rate-shown">([^<]*)<', row.group(1))
    assert found is not None
    return html.unescape(found.group(1))


@pytest.fixture
def shop(
    database_url: str, start_server: Callable[..., LiveServer]
) -> Iterator[tuple[Panel, LiveServer, dict[str, int]]]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    ids = {
        "likes": panel.service(name="Instagram Likes [fast]", category="Instagram", rate="0.45", refill=False),
        "followers": panel.service(name="Instagram Followers", category="Instagram", rate="1.20", refill_days=30),
        "views": panel.service(name="YouTube Views", category="YouTube", rate="2.00", cancel=False),
        "off": panel.service(name="Disabled Thing", category="YouTube", rate="0.10", enabled=False),
        "secret": panel.service(name="Hidden Plays", category="Secret", rate="0.01"),
        "xss": panel.service(name=XSS, category="Instagram", rate="3.00"),
    }
    panel.run(lambda db: catalog.hide_category(db, "Secret", True))
    yield panel, server, ids
    panel.close()


def test_a_visitor_lands_on_the_storefront(shop: tuple[Panel, LiveServer, dict[str, int]]) -> None:
    panel, server, _ids = shop
    with httpx.Client(base_url=server.base_url, timeout=30) as visitor:
        page = visitor.get("/")
        assert page.status_code == 200
        assert (
            page.headers["cache-control"] == "private, max-age=60" and page.headers["vary"] == "Cookie"
        )  # (from the session)
        figures = dict(re.findall(r'id="figure-(\w+)">([^<]*)<', page.text))
        # Disabled services and hidden categories are not on sale: 4 services in 2 categories, from 0.45.
        assert figures == {"services": "4", "categories": "2", "cheapest": "0.45 USD"}
        for link in ('href="/signup"', 'href="/services"', 'href="/login"', 'href="/services?category=YouTube"'):
            assert link in page.text
        assert "Secret" not in page.text
    panel.run(lambda db: accounts.create_customer(db, "dora", password=PASSWORD))
    dora = Session(server.base_url, "dora")
    try:
        home = dora.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/orders/new"  # customers: as before
    finally:
        dora.close()


def test_a_visitor_searches_and_filters_the_public_list(
    shop: tuple[Panel, LiveServer, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    panel, server, ids = shop
    key = panel.customer("olga", "5")
    done = int(panel.call(key, "add", service=ids["likes"], link="https://x.test/p", quantity=100)["order"])
    panel.update_order(done, "Completed")  # finished at once: the shortest average shown is a minute
    with httpx.Client(base_url=server.base_url, timeout=30) as visitor:
        page = visitor.get("/services")
        averages = dict(re.findall(r'<tr id="service-(\d+)">.*?<td class="average">([^<]*)<', page.text, re.S))
        assert averages == {
            str(ids["likes"]): "1 min",
            str(ids["followers"]): "—",
            str(ids["xss"]): "—",
            str(ids["views"]): "—",
        }
        assert page.status_code == 200 and page.headers["cache-control"] == "private, max-age=60"
        assert listed(page) == [ids["likes"], ids["followers"], ids["xss"], ids["views"]]
        assert ESCAPED in page.text and XSS not in page.text  # a service name is text, never markup
        assert rate_of(page, ids["likes"]) == "0.45 USD"
        row = re.search(rf'<tr id="service-{ids["followers"]}">(.*?)</tr>', page.text, re.S)
        assert row is not None and "Refill 30 days" in row.group(1) and ">Cancel<" in row.group(1)
        assert "50 / 10000" in row.group(1) and f'href="/orders/new?service={ids["followers"]}"' in row.group(1)
        assert "Disabled Thing" not in page.text and "Hidden Plays" not in page.text

        assert listed(visitor.get("/services", params={"q": "instagram LIKES"})) == [ids["likes"]]
        assert listed(visitor.get("/services", params={"q": str(ids["views"])})) == [ids["views"]]
        assert listed(visitor.get("/services", params={"category": "YouTube"})) == [ids["views"]]
        assert listed(visitor.get("/services", params={"category": "Instagram", "q": "follow"})) == [ids["followers"]]
        assert listed(visitor.get("/services", params={"category": "Secret"})) == []  # hidden: nothing to find
        assert listed(visitor.get("/services", params={"q": "Disabled"})) == []
        assert "No service matches your search." in visitor.get("/services", params={"q": "nothing like it"}).text

        monkeypatch.setattr(storefront, "PAGE_SIZE", 3)
        first = visitor.get("/services")
        assert listed(first) == [ids["likes"], ids["followers"], ids["xss"]] and "page 1 of 2" in first.text
        assert 'href="/services?page=2"' in first.text
        second = visitor.get("/services", params={"page": "2"})
        assert listed(second) == [ids["views"]] and 'href="/services?page=1"' in second.text
        assert listed(visitor.get("/services", params={"page": "99"})) == [ids["views"]]  # past the end: the last


def _statements(run: Callable[[], Any]) -> int:
    """How many SQL statements the panel ran while ``run`` did."""
    seen: list[str] = []
    lock = threading.Lock()

    def count(*_args: Any) -> None:
        with lock:
            seen.append("statement")

    event.listen(Engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return len(seen)


def test_the_public_list_costs_the_same_few_statements_for_any_number_of_services(
    database_url: str, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(cache_seconds=0)  # no cache: every statement shows
    panel = Panel(database_url, server.api_url)
    try:
        key = panel.customer("erin", "5")
        panel.run(lambda db: accounts.set_password(db, "erin", PASSWORD))
        erin = Session(server.base_url, "erin")
        with httpx.Client(base_url=server.base_url, timeout=30) as visitor:
            costs = []
            for count in (2, 10):
                while len(panel.call(key, "services")) < count:
                    panel.service(name=f"Service {len(costs)}", category=f"C{len(costs)}")
                costs.append(
                    (_statements(lambda: visitor.get("/services")), _statements(lambda: erin.get("/services")))
                )
        erin.close()
        assert costs[0] == costs[1]  # no statement per service (no N+1)
    finally:
        panel.close()


def test_a_customer_s_services_page_shows_their_own_rates(shop: tuple[Panel, LiveServer, dict[str, int]]) -> None:
    panel, server, ids = shop
    panel.run(lambda db: accounts.create_customer(db, "frank", password=PASSWORD))
    panel.run(lambda db: pricing.set_custom_rate(db, "frank", ids["followers"], parse_amount("0.99")))
    panel.run(lambda db: pricing.set_discount(db, "frank", parse_amount("10")))
    frank = Session(server.base_url, "frank")
    try:
        page = frank.get("/services")
        assert page.headers["cache-control"] == "private, no-store"
        assert "Your services and prices" in page.text
        assert rate_of(page, ids["followers"]) == "0.99 USD"  # the custom rate, not discounted again
        assert rate_of(page, ids["likes"]) == "0.405 USD"  # 0.45 less 10 %
        assert rate_of(page, ids["views"]) == "1.80 USD"
        row = re.search(rf'<tr id="service-{ids["followers"]}">(.*?)</tr>', page.text, re.S)
        assert row is not None and "your price" in row.group(1)
        order = frank.get(f"/orders/new?service={ids['followers']}")
        assert re.search(rf'<option value="{ids["followers"]}"[^>]*selected', order.text)  # the Order link's target
    finally:
        frank.close()
    with httpx.Client(base_url=server.base_url, timeout=30) as visitor:
        assert rate_of(visitor.get("/services"), ids["followers"]) == "1.20 USD"  # visitors: the public rate
