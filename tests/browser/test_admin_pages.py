"""An operator's day in a real browser: fund a customer, finish an order Partial, answer, approve a refill."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, orders, refills, tickets
from tests.browser.conftest import answer_ticket, log_in, screenshot
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"


def test_an_operator_funds_finishes_answers_and_approves(
    page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    panel = Panel(database_url)  # set-up runs in a helper thread: Playwright's loop owns this one
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("20")))
    followers = panel.service(name="Followers", category="Instagram", rate="0.90", min=50, max=10000)
    panel.service(name="Likes", category="Instagram", rate="0.35", min=10, max=5000, price_locked=True)
    panel.service(name="Views", category="TikTok", rate="0.05", min=100, max=100000, refill=False)

    async def set_up(db: Database) -> tuple[int, int, int, int]:
        alice = next(user for user in await accounts.list_customers(db) if user.username == "alice")
        place = {"service": str(followers), "quantity": "777"}
        partial = await orders.place_order(db, alice.id, {**place, "link": "https://instagram.com/alice"})
        done = await orders.place_order(db, alice.id, {**place, "link": "https://instagram.com/alice2"})
        await orders.update_order(db, done, orders.OrderUpdate(status=OrderStatus.COMPLETED))
        refill = (await refills.request_refills(db, alice.id, [done]))[done]
        assert isinstance(refill, int)
        ticket = await tickets.open_ticket(db, alice.id, "Order is slow", "It has not started yet <b>please</b>")
        return alice.id, partial, refill, ticket

    alice_id, order_id, refill_id, ticket_id = panel.run(set_up)
    base = server.base_url

    log_in(page, base, "boss", PASSWORD)
    expect(page).to_have_url(f"{base}/admin")
    expect(page.locator("#revenue-today")).to_have_text("1.3986 USD")  # two orders of 0.6993
    expect(page.locator("#tickets-waiting")).to_have_text("1")
    expect(page.locator("svg.chart rect.bar.revenue")).to_have_count(30)
    screenshot(page, "admin-overview")

    # Fund the customer, with a note that lands in their ledger.
    page.click("nav.menu >> text=Customers")
    page.click("#customers >> text=alice")
    expect(page).to_have_url(f"{base}/admin/customers/{alice_id}")
    page.fill("#fund-form input[name=amount]", "50")
    page.fill("#fund-form input[name=note]", "Bank transfer 2024-118")
    page.click("#fund-form button")
    expect(page.locator(".banner.notice")).to_contain_text("balance now 68.6014")
    expect(page.locator("#balance")).to_have_text("68.6014 USD")
    expect(page.locator("#ledger")).to_contain_text("Bank transfer 2024-118")
    screenshot(page, "admin-customers")

    # Finish an order as Partial: the exact refund (0.6993 × 333 / 777 = 0.2997) reaches the ledger.
    page.click("nav.menu >> text=Orders")
    expect(page.locator("#orders")).to_contain_text("https://instagram.com/alice")
    screenshot(page, "admin-orders")
    page.click(f"#orders >> a[href='/admin/orders/{order_id}']")
    page.fill("#partial-form input[name=remains]", "333")
    page.click("#partial-form button")
    expect(page.locator(".banner.notice")).to_contain_text("Partial, remains 333")
    expect(page.locator("#refunded")).to_have_text("0.2997 USD")
    page.goto(f"{base}/admin/customers/{alice_id}")
    refund_row = page.locator("#ledger tbody tr").first
    expect(refund_row).to_contain_text("refund")
    expect(refund_row).to_contain_text("+0.2997")
    expect(page.locator("#balance")).to_have_text("68.9011 USD")

    # Answer the ticket; the customer's markup shows as text.
    answer_ticket(page, "Order is slow", "<b>please</b>", "It starts within the hour.")
    expect(page.locator("#messages .message.operator")).to_contain_text("It starts within the hour.")

    # Approve the refill.
    page.click("nav.menu >> text=Refills")
    page.click(f"form[action='/admin/refills/{refill_id}/approve'] button")
    expect(page.locator(".banner.notice")).to_have_text(f"Refill {refill_id}: Completed.")
    expect(page.locator("#refills")).to_contain_text("Completed")

    page.click("nav.menu >> text=Services")
    expect(page.locator("table.services tbody.category")).to_have_count(2)
    screenshot(page, "admin-services")

    thread = panel.run(lambda db: tickets.ticket_for_customer(db, alice_id, ticket_id))
    assert thread.messages[-1].body == "It starts within the hour."
    assert panel.ledger_ok()
