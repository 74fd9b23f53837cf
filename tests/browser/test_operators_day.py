"""The operator's day in a real browser: a bulk cancel with its confirmation, a ticket on a topic
answered with a canned reply, a refill rejected with a reason, a report's chart and a CSV download."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from smmpanel.clock import utcnow
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, desk, orders, refills
from tests.browser.conftest import log_in, screenshot
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"
FORMULA_LINK = '=HYPERLINK("http://evil.example")'


def _site(start_server: Callable[..., LiveServer], database_url: str) -> tuple[Panel, LiveServer, int]:
    server = start_server()
    panel = Panel(database_url)  # set-up runs in a helper thread: Playwright's loop owns this one
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("20"), password=PASSWORD))
    return panel, server, panel.service(name="Followers", category="Instagram", rate="0.90", min=50, max=10000)


def _place(panel: Panel, service: int, link: str = "https://instagram.com/alice") -> int:
    async def place(db: Database) -> int:
        alice = next(user for user in await accounts.list_customers(db) if user.username == "alice")
        return await orders.place_order(db, alice.id, {"service": str(service), "link": link, "quantity": "1000"})

    return panel.run(place)


def test_a_bulk_cancel_is_confirmed_once_and_refunds_each_order(
    page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    panel, server, service = _site(start_server, database_url)
    first, second, done = (_place(panel, service) for _ in range(3))
    panel.update_order(done, "Completed")
    base = server.base_url
    log_in(page, base, "boss", PASSWORD)
    page.goto(f"{base}/admin/orders")
    for order_id in (first, second, done):
        page.check(f'#orders input[name=order][value="{order_id}"]')
    page.select_option("#bulk-action", "cancel")
    page.click("#bulk-review")
    expect(page.locator("#bulk-summary")).to_have_text("Cancel and refund: 2 of 3 ticked orders.")
    expect(page.locator(f"#plan-{first}")).to_contain_text("Canceled, 0.90 USD refunded")
    expect(page.locator(f"#plan-{done}")).to_contain_text("Left alone: already Completed")
    screenshot(page, "admin-bulk-confirm")
    assert panel.balance() == "17.30"  # nothing changed before the confirmation
    page.click("#bulk-confirm")
    expect(page.locator(".banner.notice")).to_have_text(f"Cancel and refund: 2 done (#{first}, #{second}).")
    assert panel.balance() == "19.10" and panel.ledger_ok()
    rows = page.locator("#orders tbody tr")
    expect(rows.filter(has_text="Canceled")).to_have_count(2)


def test_a_ticket_on_a_topic_is_answered_with_a_canned_reply(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str
) -> None:
    panel, server, service = _site(start_server, database_url)
    order_id = _place(panel, service)
    panel.run(lambda db: desk.save_canned_reply(db, "Refill queued", "We queued a refill of your order."))
    base = server.base_url
    customer, operator = new_page(), new_page()
    log_in(customer, base, "alice", PASSWORD)
    customer.goto(f"{base}/tickets/new")
    customer.select_option("#topic", "Refill")
    customer.fill("textarea[name=message]", "It dropped by half.")
    customer.click("button.primary")
    expect(customer.locator(".banner.error")).to_have_text("Please write the order ID for Refill")
    expect(customer.locator("textarea[name=message]")).to_have_value("It dropped by half.")
    customer.fill("#ticket-order", str(order_id))
    customer.click("button.primary")
    expect(customer.locator(".banner.notice")).to_contain_text("opened")
    expect(customer.locator("h1")).to_contain_text(f"Refill #{order_id}")

    log_in(operator, base, "boss", PASSWORD)
    expect(operator.locator("#queue-tickets")).to_have_text("1")
    operator.click("nav.menu >> text=Tickets")
    operator.click(f"#tickets >> text=Refill #{order_id}")
    operator.fill("#reply-message", "Hello alice. ")
    operator.click("#insert-canned")
    expect(operator.locator("#reply-message")).to_have_value("Hello alice. We queued a refill of your order.")
    screenshot(operator, "admin-ticket-canned")
    operator.click("#reply-form button")
    expect(operator.locator(".banner.notice")).to_have_text("Answer sent.")
    expect(operator.locator("#queue-tickets")).to_have_count(0)
    customer.reload()
    expect(customer.locator(".message.operator .body")).to_have_text("Hello alice. We queued a refill of your order.")


def test_a_refill_rejected_with_a_reason_shows_it_to_the_customer(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str
) -> None:
    panel, server, service = _site(start_server, database_url)
    order_id = _place(panel, service)
    panel.update_order(order_id, OrderStatus.COMPLETED.value)

    async def ask(db: Database) -> int:
        alice = next(user for user in await accounts.list_customers(db) if user.username == "alice")
        refill = (await refills.request_refills(db, alice.id, [order_id]))[order_id]
        assert isinstance(refill, int)
        return refill

    refill_id = panel.run(ask)
    base = server.base_url
    operator, customer = new_page(), new_page()
    log_in(operator, base, "boss", PASSWORD)
    operator.goto(f"{base}/admin/refills")
    form = operator.locator(f'form[action="/admin/refills/{refill_id}/reject"]')
    form.locator("input[name=reason]").fill("No drop since delivery")
    form.locator("button").click()
    expect(operator.locator(".banner.notice")).to_have_text(f"Refill {refill_id}: Rejected.")
    log_in(customer, base, "alice", PASSWORD)
    customer.goto(f"{base}/refills")
    expect(customer.locator("table.refills .refill-reason")).to_have_text("Reason: No drop since delivery")
    customer.click(f'a[href="/refills/{refill_id}"]')
    expect(customer.locator("#refill-reason")).to_have_text("No drop since delivery")


def test_the_report_draws_its_chart_and_the_orders_download_as_safe_csv(
    page: Page, start_server: Callable[..., LiveServer], database_url: str, tmp_path: Path
) -> None:
    panel, server, service = _site(start_server, database_url)
    likes = panel.service(name="Likes", category="Instagram", rate="0.30", min=50, max=10000)
    evil = _place(panel, service, FORMULA_LINK)
    _place(panel, likes)
    base = server.base_url
    log_in(page, base, "boss", PASSWORD)
    page.click("#reports-link")
    page.select_option("#report-by", "service")
    page.click("#report-form button")
    expect(page.locator("#report tbody tr")).to_have_count(2)
    expect(page.locator("#report-total")).to_contain_text("1.20")
    expect(page.locator("svg.chart rect.bar.count")).to_have_count(2)
    expect(page.locator("svg.chart text").filter(has_text="0.90")).to_have_count(1)
    screenshot(page, "admin-report")
    with page.expect_download() as download_info:
        page.click("#export-orders")
    download = download_info.value
    today = utcnow().date()
    assert download.suggested_filename == f"orders-{today - timedelta(days=29)}-{today}.csv"  # the last 30 days
    saved = tmp_path / "orders.csv"
    download.save_as(saved)
    lines = saved.read_bytes().split(b"\r\n")
    assert lines[0].startswith(b"id,created_at,customer,service_id,service,link,")
    evil_line = next(line for line in lines if line.startswith(f"{evil},".encode()))
    assert b',"\'=HYPERLINK(""http://evil.example"")",' in evil_line


def test_the_new_pages_fit_a_phone(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str
) -> None:
    """At 390 px wide no new page scrolls sideways: their tables scroll inside their own box."""
    panel, server, service = _site(start_server, database_url)
    order_id = _place(panel, service, "https://instagram.com/" + "a-very-long-profile-name" * 4)
    panel.update_order(order_id, "In progress")

    async def ask_to_cancel(db: Database) -> None:
        alice = next(user for user in await accounts.list_customers(db) if user.username == "alice")
        await orders.cancel_orders(db, alice.id, [order_id])

    panel.run(ask_to_cancel)
    panel.run(lambda db: desk.save_canned_reply(db, "Thanks", "Thank you for waiting."))
    base = server.base_url
    operator, customer = new_page(), new_page()
    for opened in (operator, customer):
        opened.set_viewport_size({"width": 390, "height": 844})
    log_in(operator, base, "boss", PASSWORD)
    log_in(customer, base, "alice", PASSWORD)
    pages = [
        (operator, "/admin/requests-to-cancel"),
        (operator, "/admin/canned-replies"),
        (operator, "/admin/reports"),
        (operator, "/admin/audit"),
        (customer, "/tickets/new"),
    ]
    for opened, path in pages:
        opened.goto(f"{base}{path}")
        width = opened.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    operator.goto(f"{base}/admin/orders")
    operator.check(f'#orders input[name=order][value="{order_id}"]')
    operator.click("#bulk-review")
    expect(operator.locator("#bulk-plan")).to_be_visible()
    assert operator.evaluate("document.documentElement.scrollWidth") <= 390
