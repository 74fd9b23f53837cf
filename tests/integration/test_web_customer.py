"""The customer's dashboard pages over real HTTP: CSRF, isolation, escaping, mass orders, paging."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import httpx
import pytest

from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import ServiceType
from smmpanel.errors import Refused
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, orders, refills, settings, tickets
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


class Browser:
    """A logged-in customer's httpx session: cookies kept, CSRF token read from the pages."""

    def __init__(self, base_url: str, username: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.post("/login", username=username, password=PASSWORD)
        assert "smmpanel_session" in self.http.cookies

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def post(self, path: str, *, csrf: bool = True, **fields: str) -> httpx.Response:
        if csrf:
            page = self.http.get("/login" if path == "/login" else "/tickets/new")
            found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert found is not None
            fields = {"csrf_token": found.group(1), **fields}
        return self.http.post(path, data=fields)

    def close(self) -> None:
        self.http.close()


def banner(page: httpx.Response, kind: str) -> str:
    found = re.search(rf'class="banner {kind}"[^>]*>([^<]*)<', page.text)
    assert found is not None, page.text[:2000]
    return html.unescape(found.group(1))


def order_ids(page: httpx.Response) -> list[int]:
    return [int(n) for n in re.findall(r'<tr>\s*<td><a href="/orders/(\d+)">\1</a>', page.text)]


def pager_link(page: httpx.Response, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page.text)
    return html.unescape(found.group(1)) if found else None


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> tuple[Panel, LiveServer]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    for name in ("alice", "bob"):
        panel.run(lambda db, name=name: accounts.create_customer(db, name, parse_amount("100"), password=PASSWORD))
    return panel, server


def login(server: LiveServer, username: str = "alice") -> Browser:
    return Browser(server.base_url, username)


def place(panel: Panel, username: str, **params: str) -> int:
    async def work(db: Database) -> int:
        customer = await accounts.log_in(db, username, PASSWORD)
        return await orders.place_order(db, customer.id, params)

    return panel.run(work)


def user_id(panel: Panel, username: str) -> int:
    return panel.run(lambda db: accounts.log_in(db, username, PASSWORD)).id


def test_forms_without_a_csrf_token_are_refused_and_change_nothing(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service()
    drip = place(panel, "alice", service=str(service), link="https://a", quantity="100", runs="3", interval="10")
    order = place(panel, "alice", service=str(service), link="https://b", quantity="100")
    alice_id = user_id(panel, "alice")
    ticket = panel.run(lambda db: tickets.open_ticket(db, alice_id, "Hello", "First"))
    before = panel.balance("alice")
    alice = login(server)
    posts = {
        "/orders/new": {"service": str(service), "link": "https://c", "quantity": "100"},
        "/orders/mass": {"orders": f"{service} | https://d | 100"},
        f"/orders/{order}/cancel": {},
        f"/orders/{order}/refill": {},
        f"/drip-feeds/{drip}/stop": {},
        "/tickets/new": {"subject": "Hi", "message": "Hello"},
        f"/tickets/{ticket}": {"message": "More"},
        "/api/key": {},
        "/logout": {},
    }
    for path, fields in posts.items():
        for token in (None, "forged-token"):
            sent = fields if token is None else {**fields, "csrf_token": token}
            answer = alice.http.post(path, data=sent)
            assert answer.status_code == 403, path
            assert "Form refused" in answer.text
    assert panel.balance("alice") == before
    found = panel.run(lambda db: orders.orders_of_customer(db, alice_id, list(range(1, 10))))
    assert sorted(found) == [drip, order]
    assert not found[drip].stopped and found[order].status.value == "Pending" and not found[order].cancel_requested
    thread = panel.run(lambda db: tickets.ticket_for_customer(db, alice_id, ticket))
    assert [m.body for m in thread.messages] == ["First"]
    assert panel.run(lambda db: tickets.tickets_for_operator(db)) == [thread.ticket]
    assert alice.get("/orders").status_code == 200  # still logged in: /logout was refused too
    alice.close()


def test_another_customers_order_ticket_and_refill_answer_exactly_like_missing_ones(
    site: tuple[Panel, LiveServer],
) -> None:
    panel, server = site
    service = panel.service()
    bob_id = user_id(panel, "bob")
    bobs_order = place(panel, "bob", service=str(service), link="https://bob", quantity="100")
    bobs_drip = place(panel, "bob", service=str(service), link="https://bob2", quantity="100", runs="2", interval="5")
    panel.update_order(bobs_order, "Completed")
    bobs_refill = panel.run(lambda db: refills.request_refills(db, bob_id, [bobs_order]))[bobs_order]
    assert isinstance(bobs_refill, int)
    bobs_ticket = panel.run(lambda db: tickets.open_ticket(db, bob_id, "Bob's secret", "secret text"))
    bob_balance = panel.balance("bob")
    alice = login(server)
    missing = 999_999
    for kind, theirs in (("orders", bobs_order), ("tickets", bobs_ticket), ("refills", bobs_refill)):
        other, absent = alice.get(f"/{kind}/{theirs}"), alice.get(f"/{kind}/{missing}")
        assert other.status_code == absent.status_code == 404
        assert other.text == absent.text
        assert other.headers["content-type"] == absent.headers["content-type"]
        assert "bob" not in other.text.lower()
    for action, theirs in (
        ("orders/{}/cancel", bobs_order),
        ("orders/{}/refill", bobs_order),
        ("subscriptions/{}/stop", bobs_drip),
    ):
        other = alice.post("/" + action.format(theirs))
        absent = alice.post("/" + action.format(missing))
        assert other.status_code == absent.status_code == 404, action
        assert other.text == absent.text
    reply = alice.post(f"/tickets/{bobs_ticket}", message="I am not Bob")
    assert reply.status_code == 404
    assert alice.get("/orders/99999999999999999999999").status_code == 404  # beyond any id a database holds
    assert alice.post("/tickets/new", subject="x", message="y", order=str(bobs_order)).status_code == 400
    # Bob's things are untouched, and none of them is listed for Alice.
    assert panel.balance("bob") == bob_balance
    thread = panel.run(lambda db: tickets.ticket_for_customer(db, bob_id, bobs_ticket))
    assert [m.body for m in thread.messages] == ["secret text"]
    assert len(panel.run(lambda db: refills.refills_page(db, bob_id)).items) == 1
    for page in ("/orders", "/subscriptions", "/drip-feeds", "/refills", "/tickets", "/funds"):
        text = alice.get(page).text
        assert "https://bob" not in text and "secret" not in text, page
    alice.close()


def test_user_text_shows_as_text_never_as_markup(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    default = panel.service()
    comments = panel.service(name="Comments", type=ServiceType.CUSTOM_COMMENTS, rate="10", min=1, max=100)
    alice = login(server)
    placed = alice.post("/orders/new", service=str(default), link=f"https://x/{XSS}", quantity="100")
    assert placed.status_code == 303
    drip = alice.post(
        "/orders/new",
        service=str(default),
        link=f"https://y/{XSS}",
        quantity="50",
        drip_feed="1",
        runs="2",
        interval="5",
    )
    assert drip.status_code == 303
    placed = alice.post("/orders/new", service=str(comments), link="https://z", comments=f"nice\n{XSS}\n")
    assert placed.status_code == 303
    ticket = alice.post("/tickets/new", subject=f"Help {XSS}", message=f"Look: {XSS}", order="1")
    assert ticket.status_code == 303
    ticket_page = ticket.headers["location"]
    refused = alice.post("/orders/new", service=str(default), link=f"https://x/{XSS}", quantity="1")
    assert refused.status_code == 400
    panel.run(lambda db: settings.set_funds_instructions(db, f"Pay to IBAN 123 {XSS}"))
    pages = [refused, *(alice.get(path) for path in ("/orders", "/orders/1", "/orders/3", "/drip-feeds"))]
    pages += [alice.get(path) for path in (ticket_page, "/tickets", "/funds")]
    for page in pages:
        assert ESCAPED in page.text, page.url
        assert "<script>alert" not in page.text, page.url
    assert f"https://x/{ESCAPED}" in refused.text  # the customer's input comes back, escaped
    alice.close()


def test_mass_order_reports_each_line_and_charges_only_placed_ones(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service(rate="2")
    package = panel.service(name="Package", type=ServiceType.PACKAGE, rate="3.5", min=1, max=1)
    alice = login(server)
    lines = "\n".join(
        [
            f"{service} | https://one | 1000",
            f"{service} | https://two | 10",
            "",
            "not an order",
            "999 | https://three | 100",
            f"{package} | https://four",
            f"{service} | https://five | many",
        ]
    )
    answer = alice.post("/orders/mass", orders=lines, mark="batch-1")
    assert answer.status_code == 200
    rows = re.findall(r"<tr class=\"(ok|refused)\">(.*?)</tr>", answer.text, re.S)
    outcomes = [(kind, html.unescape(re.sub(r"<[^>]+>", " ", cells)).split()) for kind, cells in rows]
    assert [kind for kind, _ in outcomes] == ["ok", "refused", "refused", "refused", "ok", "refused"]
    assert outcomes[0][1][:2] == ["1.", f"{service}"] and "2.00" in outcomes[0][1]
    texts = [" ".join(words) for _, words in outcomes]
    assert "Quantity less than minimal 50" in texts[1]
    assert "Write each order as: service ID | link | quantity" in texts[2]
    assert texts[2].startswith("4.")  # the blank line still counts, so the customer finds the line
    assert "Incorrect service ID" in texts[3]
    assert "3.50" in texts[4]
    assert "Incorrect quantity" in texts[5]
    assert "2 of 6 orders placed, 5.50 USD charged. 4 refused: nothing was charged for them." in banner(
        answer, "notice"
    )
    assert panel.balance("alice") == "94.50"
    # A reload posts the same form again: nothing is placed twice.
    again = alice.post("/orders/mass", orders=lines, mark="batch-1")
    assert again.status_code == 409
    assert panel.balance("alice") == "94.50"
    too_many = "\n".join(f"{service} | https://x{n} | 100" for n in range(101))
    refused = alice.post("/orders/mass", orders=too_many, mark="batch-2")
    assert refused.status_code == 400 and "At most 100 orders at once" in refused.text
    assert panel.balance("alice") == "94.50"
    assert order_ids(alice.get("/orders")) == [2, 1]
    assert panel.ledger_ok()
    alice.close()


def test_new_order_refuses_with_the_apis_own_texts(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    key = panel.run(lambda db: accounts.rotate_key(db, "alice")).api_key
    service = panel.service(min=50, max=1000)
    comments = panel.service(name="Comments", type=ServiceType.CUSTOM_COMMENTS, rate="10", min=2, max=5)
    poll = panel.service(name="Poll", type=ServiceType.POLL)
    alice = login(server)
    cases = [
        {"service": "12345", "link": "https://a", "quantity": "100"},
        {"service": str(service), "link": "", "quantity": "100"},
        {"service": str(service), "link": "https://a", "quantity": "10"},
        {"service": str(service), "link": "https://a", "quantity": "5000"},
        {"service": str(service), "link": "https://a", "quantity": "1e3"},
        {"service": str(service), "link": "https://a b", "quantity": "100"},
        {"service": str(comments), "link": "https://a", "comments": "only one"},
        {"service": str(comments), "link": "https://a", "comments": ""},
        {"service": str(poll), "link": "https://a", "quantity": "100", "answer_number": "x"},
    ]
    for params in cases:
        page = alice.post("/orders/new", **params)
        api = panel.call(key, "add", **params)
        assert page.status_code == 400
        assert banner(page, "error") == api["error"], params
    for runs, interval in (("0", "10"), ("5", "0"), ("x", "10")):
        params = {"service": str(service), "link": "https://a", "quantity": "100", "runs": runs, "interval": interval}
        page = alice.post("/orders/new", drip_feed="1", **params)
        assert banner(page, "error") == panel.call(key, "add", **params)["error"]
    expensive = {"service": str(service), "link": "https://a", "quantity": "1000", "runs": "200", "interval": "5"}
    page = alice.post("/orders/new", drip_feed="1", **expensive)
    assert banner(page, "error") == "Not enough funds on balance" == panel.call(key, "add", **expensive)["error"]
    assert panel.balance("alice") == "100.00"
    assert order_ids(alice.get("/orders")) == []
    alice.close()


def test_order_cancel_refill_and_drip_feed_stop_from_the_pages(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service(rate="0.9")
    no_cancel = panel.service(name="Likes", cancel=False, refill=False)
    alice = login(server)
    placed = alice.post("/orders/new", service=str(service), link="https://a", quantity="1000")
    assert placed.status_code == 303 and placed.headers["location"] == f"/orders/new?service={service}"
    notice = banner(alice.get(placed.headers["location"]), "notice")
    assert notice == "Order #1 placed. Charged 0.90 USD. Your balance is now 99.10 USD."
    alice.post("/orders/new", service=str(no_cancel), link="https://b", quantity="100")
    drip = alice.post(
        "/orders/new", service=str(service), link="https://c", quantity="100", drip_feed="1", runs="4", interval="30"
    )
    assert "Charged 0.36 USD" in banner(alice.get(drip.headers["location"]), "notice")
    listing = alice.get("/orders")
    assert order_ids(listing) == [3, 2, 1]
    assert 'action="/orders/1/cancel"' in listing.text and 'action="/orders/2/cancel"' not in listing.text
    assert "0/4 runs, every 30 min" in listing.text
    canceled = alice.post("/orders/1/cancel", next="/orders?status=Pending")
    assert canceled.headers["location"] == "/orders?status=Pending"
    assert banner(alice.get("/orders"), "notice") == (
        "Order #1 canceled. 0.90 USD refunded; your balance is now 99.55 USD."
    )
    refused = alice.post("/orders/2/cancel")
    assert banner(alice.get(refused.headers["location"]), "error") == "Order #2: Cancel not available for this service"
    # A drip-feed stopped before any run: every run refunded.
    stopped = alice.post("/drip-feeds/3/stop")
    assert stopped.headers["location"] == "/drip-feeds"
    page = alice.get("/drip-feeds")
    assert "Drip-feed #3 stopped after 0 of 4 runs. Refunded so far: 0.36 USD" in banner(page, "notice")
    assert "Canceled" in page.text and 'action="/drip-feeds/3/stop"' not in page.text
    assert "already stopped" in banner(alice.get(alice.post("/drip-feeds/3/stop").headers["location"]), "error")
    # Refill: only once the order has finished, then listed on /refills.
    alice.post("/orders/new", service=str(service), link="https://d", quantity="100")
    assert 'action="/orders/4/refill"' not in alice.get("/orders").text
    panel.update_order(4, "Completed")
    assert 'action="/orders/4/refill"' in alice.get("/orders").text
    assert '"average": "1 min"' in alice.get("/orders/new").text  # from the finished order
    asked = alice.post("/orders/4/refill")
    assert banner(alice.get(asked.headers["location"]), "notice") == "Refill #1 requested for order #4."
    refills_page = alice.get("/refills")
    assert 'href="/refills/1"' in refills_page.text and "https://d" in refills_page.text
    assert "Pending" in alice.get("/refills/1").text
    funds = alice.get("/funds")
    assert re.search(r'id="balance">\s*99\.\d+ USD', funds.text)
    kinds = re.findall(r'<tr class="kind-(\w+)">', funds.text)
    assert kinds == ["charge", "refund", "refund", "charge", "charge", "charge", "topup"]  # newest first
    assert panel.ledger_ok()
    alice.close()


def test_listings_page_by_keyset_and_stay_correct(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    first = panel.service(rate="0.01")
    second = panel.service(name="Views", rate="0.01")
    alice_id = user_id(panel, "alice")

    async def many(db: Database) -> list[int]:
        placed = []
        for n in range(61):
            service = first if n % 3 else second
            placed.append(
                await orders.place_order(
                    db, alice_id, {"service": str(service), "link": f"https://l/{n}", "quantity": "100"}
                )
            )
        await orders.cancel_orders(db, alice_id, placed[::4])
        return placed

    placed = panel.run(many)
    place(panel, "bob", service=str(first), link="https://bob", quantity="100")
    alice = login(server)

    def walk(start: str) -> tuple[list[int], list[list[int]]]:
        seen: list[int] = []
        pages: list[list[int]] = []
        url: str | None = start
        while url is not None:
            page = alice.get(url)
            pages.append(order_ids(page))
            seen += pages[-1]
            url = pager_link(page, "next")
        assert pager_link(alice.get(start), "prev") is None
        return seen, pages

    seen, pages = walk("/orders")
    assert seen == sorted(placed, reverse=True)
    assert [len(p) for p in pages] == [25, 25, 11]
    # Back again through "Newer" from the last page: the same pages in reverse.
    url: str | None = f"/orders?before={pages[-1][0] + 1}"
    back: list[list[int]] = []
    while url is not None:
        page = alice.get(url)
        back.append(order_ids(page))
        url = pager_link(page, "prev")
    assert back[0] == pages[-1] and back[-1] == pages[0] and back == pages[::-1]
    canceled = sorted(placed[::4], reverse=True)
    seen, pages = walk("/orders?status=Canceled")
    assert seen == canceled and [len(p) for p in pages] == [16]
    in_second = [order for n, order in enumerate(placed) if n % 3 == 0]
    seen, _ = walk(f"/orders?service={second}")
    assert seen == sorted(in_second, reverse=True)
    seen, _ = walk(f"/orders?service={second}&status=Pending")
    assert seen == sorted(set(in_second) - set(canceled), reverse=True)
    assert order_ids(alice.get(f"/orders?q={placed[7]}")) == [placed[7]]
    assert order_ids(alice.get("/orders?q=https://l/8")) == [placed[8]]
    assert order_ids(alice.get("/orders?q=https://bob")) == []
    assert "No order matches" in alice.get("/orders?q=nothing-like-this").text
    # The ledger pages the same way: 1 top-up, 61 charges, 16 refunds.
    entries: list[str] = []
    url = "/funds"
    while url is not None:
        page = alice.get(url)
        entries += re.findall(r'<tr class="kind-(\w+)">', page.text)
        url = pager_link(page, "next")
    assert len(entries) == 78 and entries[-1] == "topup" and entries.count("refund") == 16
    alice.close()


def test_tickets_between_customer_and_operator(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service()
    order = place(panel, "alice", service=str(service), link="https://a", quantity="100")
    operator = panel.run(lambda db: accounts.create_customer(db, "operator", password=PASSWORD, admin=True))
    operator_id = user_id(panel, operator.username)
    alice = login(server)
    assert alice.post("/tickets/new", subject="", message="x").status_code == 400
    refused = alice.post("/tickets/new", subject="Where is it?", message="Hello", order="abc")
    assert banner(refused, "error") == "Incorrect order ID" and 'value="Where is it?"' in refused.text
    opened = alice.post("/tickets/new", subject="Where is it?", message="My order is slow", order=str(order))
    assert opened.headers["location"] == "/tickets/1"
    page = alice.get("/tickets/1")
    assert "Open" in page.text and f'href="/orders/{order}"' in page.text and "My order is slow" in page.text
    bob_id = user_id(panel, "bob")
    second = panel.run(lambda db: tickets.open_ticket(db, bob_id, "Bob asks", "Hi"))
    panel.run(lambda db: tickets.ticket_for_operator(db, second))  # the operator has read Bob's
    listed = panel.run(lambda db: tickets.tickets_for_operator(db))
    assert [t.id for t in listed] == [1, second]  # unread first
    assert panel.run(tickets.unread_ticket_count) == 1
    panel.run(lambda db: tickets.reply_as_operator(db, operator_id, 1, "It is on its way <b>soon</b>"))
    with pytest.raises(Refused, match="Only an operator"):
        panel.run(lambda db: tickets.reply_as_operator(db, bob_id, 1, "I am no operator"))
    listing = alice.get("/tickets")
    assert "Answered" in listing.text and "new answer" in listing.text
    page = alice.get("/tickets/1")
    assert "It is on its way &lt;b&gt;soon&lt;/b&gt;" in page.text and 'class="message operator"' in page.text
    assert "new answer" not in alice.get("/tickets").text  # read now
    assert alice.post("/tickets/1", message="Thanks!").status_code == 303
    assert "Open" in alice.get("/tickets/1").text
    assert panel.run(tickets.unread_ticket_count) == 1
    panel.run(lambda db: tickets.close_ticket(db, 1))
    closed = alice.get("/tickets/1")
    assert "Closed" in closed.text and 'name="message"' not in closed.text
    refused = alice.post("/tickets/1", message="One more thing")
    assert refused.status_code == 400 and "This ticket is closed" in banner(refused, "error")
    thread = panel.run(lambda db: tickets.ticket_for_operator(db, 1))
    assert [m.from_operator for m in thread.messages] == [False, True, False]
    alice.close()


def test_api_page_rotates_the_key_and_documents_this_panel(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    old_key = panel.run(lambda db: accounts.rotate_key(db, "alice")).api_key
    alice = login(server)
    page = alice.get("/api")
    assert f"{server.base_url}/api/v2" in page.text
    for action in ("services", "add", "status", "refill", "refill_status", "cancel", "balance", "subscriptions"):
        assert f"action={action}" in page.text
    assert 'id="new-key"' not in page.text
    rotated = alice.post("/api/key")  # POST, redirect, GET: a reload of the page posts nothing
    assert rotated.status_code == 303 and rotated.headers["location"] == "/api#api-key"
    shown = alice.get("/api")
    assert shown.headers["cache-control"] == "no-store"
    found = re.search(r'id="new-key">([A-Za-z0-9_-]+)<', shown.text)
    assert found is not None
    new_key = found.group(1)
    assert panel.call(old_key, "balance") == {"error": "Invalid API key"}
    assert panel.call(new_key, "balance") == {"balance": "100.00", "currency": "USD"}
    assert new_key not in alice.get("/api").text  # shown once
    alice.close()


def test_pages_need_a_login(site: tuple[Panel, LiveServer]) -> None:
    _, server = site
    with httpx.Client(base_url=server.base_url) as anonymous:
        for path in (
            "/orders/new",
            "/orders/mass",
            "/orders",
            "/orders/1",
            "/subscriptions",
            "/drip-feeds",
            "/refills",
            "/funds",
        ):
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next="), path
        for path in ("/tickets", "/tickets/1", "/api"):
            assert anonymous.get(path).status_code == 303


def test_subscriptions_list_subscriptions_orders_with_their_posts_and_drip_feeds_have_their_own_page(
    site: tuple[Panel, LiveServer],
) -> None:
    panel, server = site
    service = panel.service()
    auto = panel.service(name="Auto likes", type=ServiceType.SUBSCRIPTIONS, rate="2", min=10, max=1000)
    drip = place(panel, "alice", service=str(service), link="https://drip", quantity="100", runs="3", interval="10")
    params = {"username": "sub_user", "min": "100", "max": "200", "delay": "30", "posts": "4", "expiry": "31/12/2099"}
    alice_id = user_id(panel, "alice")
    subscribed = panel.run(lambda db: orders.place_order(db, alice_id, {"service": str(auto), **params}))
    for quantity in (150, 200):
        panel.run(lambda db, q=quantity: orders.record_subscription_post(db, subscribed, q))
    alice = login(server)

    listing = alice.get("/subscriptions").text
    rows = re.findall(r"<tr>\s*(<td><a href=\"/orders/\d+\">.*?)</tr>", listing, re.S)
    cells = [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in rows
    ]
    assert len(cells) == 1
    assert cells[0][0] == str(subscribed) and cells[0][2:] == [
        "sub_user",
        "Auto likes",
        "2 of 4",
        "100–200",
        "30 min",
        "2099-12-31",
        "350",
        "0.70",
        "Active",
    ]
    assert "https://drip" not in listing

    drips = alice.get("/drip-feeds").text
    assert f'action="/drip-feeds/{drip}/stop"' in drips and "sub_user" not in drips
    assert 'href="/drip-feeds"' in drips  # in the menu
    alice.close()
