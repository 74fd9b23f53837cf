"""A customer and the operator, each in a browser of their own, on one live panel: every figure exact."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.domain.catalog import ServiceType
from smmpanel.usecases import accounts
from tests.browser.conftest import answer_ticket, log_in, place_order, screenshot, sign_up
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"


def test_a_customer_and_the_operator_settle_orders_and_a_ticket(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    panel = Panel(database_url)  # set-up runs in a helper thread: Playwright's loop owns this one
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    followers = panel.service(name="Followers", category="Instagram", rate="1.23457", min=100, max=10000)
    panel.service(
        name="Custom comments", category="Instagram Comments", type=ServiceType.CUSTOM_COMMENTS, rate="7.77777", min=1
    )
    base = server.base_url
    customer, operator = new_page(), new_page()  # two browser contexts: two sessions side by side

    sign_up(customer, base, "dave", PASSWORD)
    expect(customer.locator(".who .balance")).to_have_text("0.00")
    log_in(operator, base, "boss", PASSWORD)
    expect(operator).to_have_url(f"{base}/admin")

    # The operator records a payment; the customer sees it with its note.
    operator.click("nav.menu >> text=Customers")
    operator.click("#customers >> text=dave")
    operator.fill("#fund-form input[name=amount]", "25")
    operator.fill("#fund-form input[name=note]", "Bank transfer 7781")
    operator.click("#fund-form button")
    expect(operator.locator(".banner.notice")).to_have_text("dave: 25.00 recorded, balance now 25.00.")
    customer.click('nav.menu a[href="/funds"]')
    expect(customer.locator("#balance")).to_have_text("25.00 USD")
    expect(customer.locator("table.ledger tbody tr")).to_have_count(1)
    expect(customer.locator("table.ledger tbody tr")).to_contain_text("Bank transfer 7781")

    # Two orders, each charge shown before and after placing: 1.23457 × 2345 / 1000 = 2.89506665 → 2.89507.
    customer.goto(f"{base}/orders/new")
    customer.select_option("#category", "Instagram")
    customer.select_option("#service", str(followers))
    place_order(customer, 1, "2.89507", "22.10493", link="https://instagram.com/dave", quantity="2345")
    # Four comment lines: 7.77777 × 4 / 1000 = 0.03111108 → 0.03111.
    customer.select_option("#category", "Instagram Comments")
    comments = "Nice\nWow\nSo true\n<i>best</i>"
    place_order(customer, 2, "0.03111", "22.07382", link="https://instagram.com/p/dave1", comments=comments)
    expect(customer.locator(".who .balance")).to_have_text("22.07382")

    # Cancel the comments order: nothing was forwarded, so the whole charge comes back at once.
    customer.click('nav.menu a[href="/orders"]')
    customer.locator('form[action="/orders/2/cancel"] button').click()
    expect(customer.locator(".banner.notice")).to_have_text(
        "Order #2 canceled. 0.03111 USD refunded; your balance is now 22.10493 USD."
    )
    customer.click('nav.menu a[href="/funds"]')
    refund = customer.locator("table.ledger tbody tr").first
    expect(refund).to_contain_text("Refund")
    expect(refund.locator("td.amount")).to_have_text("+0.03111")
    expect(customer.locator("#balance")).to_have_text("22.10493 USD")

    # A ticket about the other order.
    customer.goto(f"{base}/tickets/new")
    customer.fill("input[name=subject]", "Followers are slow")
    customer.fill("input[name=order]", "1")
    customer.fill("textarea[name=message]", "Order 1 has not moved <yet>.")
    customer.click("button.primary")
    expect(customer.locator(".banner.notice")).to_contain_text("Ticket #1 opened")

    # The operator answers, then finishes the order as Partial.
    answer = "Part of it could not be delivered; the rest is refunded."
    answer_ticket(operator, "Followers are slow", "Order 1 has not moved <yet>.", answer)
    operator.click("a[href='/admin/orders/1']")
    operator.fill("#partial-form input[name=remains]", "999")
    operator.click("#partial-form button")
    expect(operator.locator(".banner.notice")).to_contain_text("Partial, remains 999")
    expect(operator.locator("#refunded")).to_have_text("1.23333 USD")  # 2.89507 × 999 / 2345 = 1.2333368… ↓
    screenshot(operator, "admin-order")

    # The customer sees the refund, the new balance, the answer and the status.
    customer.click('nav.menu a[href="/funds"]')
    refund = customer.locator("table.ledger tbody tr").first
    expect(refund).to_contain_text("#1")
    expect(refund.locator("td.amount")).to_have_text("+1.23333")
    expect(customer.locator("#balance")).to_have_text("23.33826 USD")
    expect(customer.locator(".who .balance")).to_have_text("23.33826")
    expect(customer.locator("table.ledger tbody tr")).to_have_count(5)  # top-up, 2 charges, 2 refunds
    screenshot(customer, "customer-funds")
    customer.click('nav.menu a[href="/tickets"]')
    expect(customer.locator("table.tickets tbody tr")).to_contain_text("Answered")
    customer.click("table.tickets >> text=Followers are slow")
    expect(customer.locator(".message.operator .body")).to_have_text(
        "Part of it could not be delivered; the rest is refunded."
    )
    customer.click("a[href='/orders/1']")
    expect(customer.locator("h1 .status")).to_have_text("Partial")
    expect(customer.locator("dt:text-is('Remains') + dd")).to_have_text("999")
    expect(customer.locator("dt:text-is('Refunded') + dd")).to_have_text("1.23333 USD")
    screenshot(customer, "customer-order")
    assert panel.balance("dave") == "23.33826"
    assert panel.ledger_ok()
