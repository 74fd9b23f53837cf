"""The attention list in a real browser: a provider's HTML error page reads as text, beside whose order it is."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.clock import utcnow
from smmpanel.db.dispatch_repositories import ATTENTION
from smmpanel.db.unit_of_work import Database
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, orders
from tests.browser.conftest import log_in
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"
PAGE = (
    "add: not JSON (text/html): <!DOCTYPE html><html><head><title>502 Bad Gateway</title>"
    "<style>h1 { color: red }</style></head><body><h1>Bad &amp; <b>Gateway</b></h1></body></html>"
)


def test_the_why_column_shows_text_and_the_customer_and_service(
    page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    panel = Panel(database_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("20")))
    service = panel.service(name="Followers <HQ>", rate="1")

    async def stuck(db: Database) -> int:
        alice = next(user for user in await accounts.list_customers(db) if user.username == "alice")
        order_id = await orders.place_order(
            db, alice.id, {"service": str(service), "link": "https://x", "quantity": "100"}
        )
        async with db.write() as repos:
            await repos.orders.update(order_id, {"dispatch": ATTENTION, "attention_reason": PAGE}, utcnow())
        return order_id

    order_id = panel.run(stuck)
    log_in(page, server.base_url, "boss", PASSWORD)
    page.goto(f"{server.base_url}/admin/attention")
    row = page.locator("#attention tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").first).to_have_text(str(order_id))
    expect(row.locator("td.customer")).to_have_text("alice")
    expect(row.locator("td.service")).to_have_text("Followers <HQ>")
    expect(row.locator("td.reason")).to_have_text("add: not JSON (text/html): 502 Bad Gateway Bad & Gateway")
    headers = page.locator("#attention thead th")
    expect(headers).to_have_text(
        ["ID", "Placed", "Customer", "Service", "Link", "Charge", "Provider order", "Why", "Answer"]
    )
