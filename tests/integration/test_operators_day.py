"""The operator's day over real HTTP on both back ends: queue counts, cancel requests, bulk changes,
ticket topics and canned replies, refill reasons, audit filters, reports and CSV exports."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from smmpanel.clock import iso_utc, utcnow
from smmpanel.db.dispatch_repositories import ATTENTION
from smmpanel.db.export_repositories import ExportKind
from smmpanel.db.repositories import Customer
from smmpanel.db.tables import ledger_entries, users
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.domain.periods import day_range
from smmpanel.domain.roles import Role
from smmpanel.money import format_amount, parse_amount
from smmpanel.usecases import accounts, audit, desk, exports, orders, payments, providers, refills, tickets
from smmpanel.usecases.gateways import add_gateway
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.staff import PASSWORD, Browser

LINK = "https://instagram.com/p/abc"


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[tuple[Panel, LiveServer]]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    for name in ("alice", "bob"):
        panel.run(lambda db, name=name: accounts.create_customer(db, name, parse_amount("100"), password=PASSWORD))
    yield panel, server
    panel.close()


def browser_for(server: LiveServer, username: str) -> Browser:
    browser = Browser(server.base_url)
    assert browser.log_in(username).status_code == 303
    browser.get("/account/password")
    return browser


def banner(page: object) -> str:
    found = re.search(r'class="banner (?:notice|error)"[^>]*>([^<]*)<', getattr(page, "text", ""))
    assert found is not None, getattr(page, "text", "")[:3000]
    return html.unescape(found.group(1))


def user(panel: Panel, name: str) -> Customer:
    return next(u for u in panel.run(accounts.list_customers) if u.username == name)


def place(panel: Panel, service: int, username: str = "alice", quantity: int = 1000) -> int:
    customer = user(panel, username)
    params = {"service": str(service), "link": LINK, "quantity": str(quantity)}
    return panel.run(lambda db: orders.place_order(db, customer.id, params))


def order(panel: Panel, order_id: int) -> orders.Order:
    async def get(db: Database) -> orders.Order:
        async with db.read() as repos:
            found = await repos.orders.get(order_id)
        assert found is not None
        return found

    return panel.run(get)


def set_dispatch(panel: Panel, order_id: int, dispatch: str) -> None:
    async def change(db: Database) -> None:
        async with db.write() as repos:
            await repos.orders.update(order_id, {"dispatch": dispatch}, utcnow())

    panel.run(change)


# --- counts ------------------------------------------------------------------------


def _queues(panel: Panel) -> None:
    """One item in each queue: an attention order, a cancel request, a deposit to review, an open ticket."""
    service = panel.service()
    alice = user(panel, "alice")
    stuck, running = place(panel, service), place(panel, service)
    set_dispatch(panel, stuck, ATTENTION)
    panel.update_order(running, "In progress")
    assert panel.run(lambda db: orders.cancel_orders(db, alice.id, [running])) == {running: None}
    panel.run(lambda db: tickets.open_ticket(db, alice.id, "Help", "Where is my order?"))
    answered = panel.run(lambda db: tickets.open_ticket(db, alice.id, "Thanks", "All good"))
    boss = user(panel, "boss")
    panel.run(lambda db: tickets.reply_as_operator(db, boss.id, answered, "Glad to help"))  # not waiting any more
    panel.run(lambda db: add_gateway(db, "manual", "bank", options={}))
    panel.run(
        lambda db: payments.start_payment(
            db,
            payments.PaymentContext("http://127.0.0.1", "USD"),
            user_id=alice.id,
            gateway_name="bank",
            amount=parse_amount("10"),
            payer_reference="TX-1",
        )
    )


def badges(page: str) -> dict[str, str]:
    nav = re.search(r'<nav class="menu">(.*?)</nav>', page, re.S)
    assert nav is not None
    return dict(re.findall(r'<span class="queue-count" id="queue-(\w+)"[^>]*>(\d+)</span>', nav.group(1)))


def test_queue_counts_in_the_nav_and_on_the_overview_for_who_may_see_them(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    _queues(panel)
    for role in (Role.SUPPORT, Role.FINANCE):
        panel.run(lambda db, r=role: accounts.create_customer(db, f"{r}1", password=PASSWORD, staff_role=r))
    owner = browser_for(server, "boss")
    overview = owner.get("/admin")
    assert badges(overview.text) == {"attention": "1", "cancel_requests": "1", "deposits": "1", "tickets": "1"}
    cards = dict(re.findall(r'id="waiting-(\w+)">(\d+)<', overview.text))
    assert cards == {"attention": "1", "cancel_requests": "1", "deposits": "1", "tickets": "1"}
    support = browser_for(server, "support1")
    assert badges(support.get("/admin/tickets").text) == {"attention": "1", "cancel_requests": "1", "tickets": "1"}
    finance = browser_for(server, "finance1")
    assert badges(finance.get("/admin").text) == {"attention": "1", "cancel_requests": "1", "deposits": "1"}
    # The answer goes out: no ticket waits, and the badge goes (a zero is not shown).
    ticket = next(t for t in panel.run(lambda db: tickets.tickets_for_operator(db)) if t.subject == "Help")
    panel.run(lambda db: tickets.reply_as_operator(db, user(panel, "boss").id, ticket.id, "On its way"))
    assert "tickets" not in badges(owner.get("/admin/orders").text)
    assert re.search(r'id="waiting-tickets">0<', owner.get("/admin").text)
    for browser in (owner, support, finance):
        browser.close()


COUNTS = {
    "ix_orders_cancel_state_cancel_request": "SELECT count(*) FROM orders WHERE cancel_requested"
    " AND status IN ('Pending', 'In progress', 'Processing') AND cancel_state IS NULL",
    "ix_tickets_id_open": "SELECT count(*) FROM tickets WHERE status = 'Open'",
    "ix_orders_dispatch_next_attempt_at": "SELECT count(*) FROM orders WHERE dispatch = 'attention'",
    "ix_payments_status_id": "SELECT count(*) FROM payments WHERE status = 'pending'",
}


def test_each_count_reads_an_index(site: tuple[Panel, LiveServer]) -> None:
    """The nav's counts never scan the orders: each query's plan names its index (sequential scans
    switched off on PostgreSQL, so a small test table does not tempt the planner)."""
    panel, _ = site
    _queues(panel)

    async def plans(db: Database) -> dict[str, str]:
        found = {}
        async with db.engine.connect() as conn:
            if not db.is_sqlite:
                await conn.execute(sa.text("SET enable_seqscan = off"))
            for index, query in COUNTS.items():
                explain = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
                rows = (await conn.execute(sa.text(explain + query))).all()
                found[index] = " ".join(str(part) for row in rows for part in row)
        return found

    for index, plan in panel.run(plans).items():
        assert index in plan, (index, plan)
    counts = panel.run(lambda db: desk.queue_counts(db, user(panel, "boss")))
    assert counts == desk.QueueCounts(attention=1, cancel_requests=1, deposits=1, tickets=1)


# --- cancel requests ---------------------------------------------------------------


def test_the_cancel_requests_queue_accepts_with_a_refund_and_refuses(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service(rate="0.90")
    alice = user(panel, "alice")
    accept, refuse, untouched = place(panel, service), place(panel, service), place(panel, service)
    for order_id in (accept, refuse, untouched):
        panel.update_order(order_id, "In progress")
    panel.run(lambda db: orders.cancel_orders(db, alice.id, [accept, refuse]))
    assert panel.balance() == "97.30"
    boss = browser_for(server, "boss")
    listing = boss.get("/admin/requests-to-cancel")
    assert re.findall(r'id="cancel-request-(\d+)"', listing.text) == [str(accept), str(refuse)]
    done = boss.follow(boss.post(f"/admin/requests-to-cancel/{accept}/accept"))
    assert banner(done) == f"Order {accept} canceled, 0.90 refunded."
    assert order(panel, accept).status is OrderStatus.CANCELED and panel.balance() == "98.20"
    kept = boss.follow(boss.post(f"/admin/requests-to-cancel/{refuse}/refuse"))
    assert banner(kept) == f"Order {refuse}: cancel request refused, the order goes on."
    assert not order(panel, refuse).cancel_requested and order(panel, refuse).status is OrderStatus.IN_PROGRESS
    assert re.findall(r'id="cancel-request-(\d+)"', kept.text) == []
    again = boss.post(f"/admin/requests-to-cancel/{accept}/accept")
    assert again.status_code == 400 and banner(again) == f"order {accept} has no cancel request waiting"
    assert panel.balance() == "98.20" and panel.ledger_ok()
    actions = [e.action for e in panel.run(lambda db: audit.audit_page(db)).items]
    assert actions[:2] == ["order.cancel_reject", "order.update"]
    boss.close()


# --- bulk changes ------------------------------------------------------------------


def test_bulk_cancel_refunds_each_order_exactly_once_and_reports_refused_ones(
    site: tuple[Panel, LiveServer],
) -> None:
    panel, server = site
    service = panel.service(rate="0.90")
    first, second, finished = place(panel, service), place(panel, service, quantity=500), place(panel, service)
    bobs = place(panel, service, "bob")
    panel.update_order(finished, "Completed")
    assert panel.balance() == "97.75"  # 0.90 + 0.45 + 0.90; bob paid his own 0.90
    boss = browser_for(server, "boss")
    ticked = [first, second, finished, bobs, 999999]
    plan = boss.post("/admin/orders/bulk", action="cancel", order=[str(i) for i in ticked])
    assert plan.status_code == 200
    rows = dict(re.findall(r'<tr id="plan-(\d+)"[^>]*>(.*?)</tr>', plan.text, re.S))
    assert list(rows) == [str(i) for i in ticked]
    assert "Canceled, 0.90 USD refunded" in rows[str(first)] and "Canceled, 0.45 USD refunded" in rows[str(second)]
    assert "Left alone: already Completed" in rows[str(finished)] and "Left alone: no such order" in rows["999999"]
    confirm = re.findall(r'<input type="hidden" name="order" value="(\d+)">', plan.text)
    assert confirm == [str(first), str(second), str(bobs)]
    assert panel.balance() == "97.75"  # the plan changed nothing
    done = boss.follow(boss.post("/admin/orders/bulk/confirm", action="cancel", order=[*confirm, str(finished)]))
    assert banner(done) == (
        f"Cancel and refund: 3 done (#{first}, #{second}, #{bobs}); refused: #{finished} (already Completed)."
    )
    assert panel.balance() == "99.10" and panel.balance("bob") == "100.00"
    again = boss.follow(boss.post("/admin/orders/bulk/confirm", action="cancel", order=confirm))
    assert banner(again).startswith("Cancel and refund: 0 done; refused: ")
    assert panel.balance() == "99.10" and panel.balance("bob") == "100.00" and panel.ledger_ok()
    entries = panel.run(lambda db: audit.audit_page(db)).items
    bulk = [e for e in entries if e.action == "order.bulk"]
    assert bulk[-1].actor == "boss" and bulk[-1].after == {
        "action": "cancel",
        "done": [first, second, bobs],
        "refused": {str(finished): "already Completed"},
    }
    assert sum(1 for e in entries if e.action == "order.update") == 3  # one per canceled order, however often sent
    boss.close()


def test_bulk_status_and_resend_go_through_the_single_use_cases(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service()
    waiting, stuck = place(panel, service), place(panel, service)
    set_dispatch(panel, stuck, ATTENTION)
    boss = browser_for(server, "boss")
    ids = [str(waiting), str(stuck)]
    moved = boss.follow(boss.post("/admin/orders/bulk/confirm", action="status:Processing", order=ids))
    assert banner(moved) == f"Set status: Processing: 2 done (#{waiting}, #{stuck})."
    assert order(panel, waiting).status is OrderStatus.PROCESSING
    resent = boss.follow(boss.post("/admin/orders/bulk/confirm", action="resend", order=ids))
    assert (
        banner(resent)
        == f"Resend (orders needing attention): 1 done (#{stuck}); refused: #{waiting} (not waiting for attention)."
    )
    assert order(panel, stuck).dispatch == "queued"
    nothing = boss.post("/admin/orders/bulk", action="cancel")
    assert nothing.status_code == 400 and banner(nothing) == "Tick at least one order"
    unknown = boss.post("/admin/orders/bulk", action="delete", order=ids)
    assert unknown.status_code == 400 and banner(unknown) == "Choose what to do with the selected orders"
    listing = boss.get("/admin/orders")
    assert f'<input type="checkbox" name="order" value="{waiting}"' in listing.text
    boss.close()


# --- tickets -----------------------------------------------------------------------


def test_ticket_topics_need_the_customers_own_order(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service()
    mine, bobs = place(panel, service), place(panel, service, "bob")
    alice = browser_for(server, "alice")
    alice.get("/tickets/new")
    missing = alice.post("/tickets/new", topic="Refill", order="", subject="", message="Please refill")
    assert missing.status_code == 400 and banner(missing) == "Please write the order ID for Refill"
    assert 'value="Refill" selected' in missing.text and "Please refill</textarea>" in missing.text
    other = alice.post("/tickets/new", topic="Speed up", order=str(bobs), message="Faster")
    assert other.status_code == 400 and banner(other) == "Incorrect order ID"
    opened = alice.follow(alice.post("/tickets/new", topic="Speed up", order=str(mine), message="Faster please"))
    assert "opened" in banner(opened)
    free = alice.follow(alice.post("/tickets/new", topic="Other", order="", subject="A question", message="Hi"))
    assert "opened" in banner(free)
    subjects = {(t.subject, t.order_id) for t in panel.run(lambda db: tickets.tickets_for_operator(db))}
    assert subjects == {(f"Speed up #{mine}", mine), ("A question", None)}
    blank = alice.post("/tickets/new", topic="Other", subject=" ", message="Hi")
    assert blank.status_code == 400 and banner(blank) == "Please write a subject"
    alice.close()


def test_canned_replies_are_managed_and_fill_an_answer(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    alice = user(panel, "alice")
    ticket = panel.run(lambda db: tickets.open_ticket(db, alice.id, "Slow", "Line one\n\nLine three"))
    boss = browser_for(server, "boss")
    added = boss.follow(
        boss.post("/admin/canned-replies", title="Refill done", body="We refilled your order.\nThanks!")
    )
    reply_id = int(re.findall(r"Canned reply (\d+) saved", banner(added))[0])
    twice = boss.post("/admin/canned-replies", title="refill DONE", body="again")
    assert twice.status_code == 400 and banner(twice) == "A canned reply is already called 'refill DONE'"
    assert 'value="refill DONE"' in twice.text and ">again</textarea>" in twice.text
    boss.follow(boss.post(f"/admin/canned-replies/{reply_id}", title="Refilled", body="We refilled it."))
    assert [(r.title, r.body) for r in panel.run(desk.canned_replies)] == [("Refilled", "We refilled it.")]
    page = boss.get(f"/admin/tickets/{ticket}")
    assert f'<option value="{reply_id}" data-body="We refilled it.">Refilled</option>' in page.text
    # No blank gaps: the message's own line breaks only, no template indentation inside the pre-wrap box.
    assert '<div class="body">Line one\n\nLine three</div>' in page.text
    assert page.text.index('id="close-form"') < page.text.index('id="reply-form"')
    filled = boss.get(f"/admin/tickets/{ticket}?canned={reply_id}")
    assert '<textarea name="message" id="reply-message" rows="6" required>We refilled it.</textarea>' in filled.text
    boss.follow(boss.post(f"/admin/canned-replies/{reply_id}/delete"))
    assert panel.run(desk.canned_replies) == []
    assert boss.post(f"/admin/canned-replies/{reply_id}/delete").status_code == 404
    actions = [e.action for e in panel.run(lambda db: audit.audit_page(db)).items]
    assert actions[:3] == ["canned_reply.delete", "canned_reply.update", "canned_reply.add"]
    boss.close()


# --- refills -----------------------------------------------------------------------


def test_a_rejected_refill_tells_its_customer_why(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service()
    done = place(panel, service)
    panel.update_order(done, "Completed")
    alice = user(panel, "alice")
    refill = panel.run(lambda db: refills.request_refills(db, alice.id, [done]))[done]
    boss = browser_for(server, "boss")
    reason = "The  drop is under 10%,\n so no refill is due <yet>"
    boss.follow(boss.post(f"/admin/refills/{refill}/reject", reason=reason))
    kept = "The drop is under 10%, so no refill is due <yet>"
    customer = browser_for(server, "alice")
    escaped = html.escape(kept, quote=False)
    assert f"Reason: {escaped}" in customer.get("/refills").text
    assert f'<dd id="refill-reason">{escaped}</dd>' in customer.get(f"/refills/{refill}").text
    entry = panel.run(lambda db: audit.audit_page(db)).items[0]
    assert entry.action == "refill.update" and entry.after == {"status": "Rejected", "reason": kept}
    boss.close()
    customer.close()


# --- audit log ---------------------------------------------------------------------


def test_audit_filters_by_who_what_and_when_and_keep_them_across_pages(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site

    async def history(db: Database) -> None:
        for number in range(55):
            await audit.record(db, audit.Audit("carol"), "order.update", f"order {number}", None, None)
        await audit.record(db, audit.Audit("dave"), "order.resend", "order 1", None, None)
        await audit.record(db, audit.Audit("dave"), "setting.update", "setting x", None, None)

    panel.run(history)
    boss = browser_for(server, "boss")

    def targets(page: object) -> list[str]:
        return re.findall(r"<td>(order \d+|setting x)</td>", getattr(page, "text", ""))

    assert targets(boss.get("/admin/audit?who=dave")) == ["setting x", "order 1"]
    assert targets(boss.get("/admin/audit?who=dave&what=order.*")) == ["order 1"]
    assert targets(boss.get("/admin/audit?what=setting.update")) == ["setting x"]
    first = boss.get("/admin/audit?who=carol&what=order.update")
    assert targets(first) == [f"order {n}" for n in range(54, 4, -1)]
    older = re.search(r'href="(/admin/audit\?[^"]+)" rel="next"', first.text)
    assert older is not None and "who=carol" in older.group(1) and "what=order.update" in older.group(1)
    assert targets(boss.get(html.unescape(older.group(1)))) == [f"order {n}" for n in range(4, -1, -1)]
    today = utcnow().date()
    assert len(targets(boss.get(f"/admin/audit?who=dave&from={today}&to={today}"))) == 2
    assert targets(boss.get(f"/admin/audit?who=dave&from={today + timedelta(days=1)}")) == []
    assert targets(boss.get(f"/admin/audit?who=dave&to={today - timedelta(days=1)}")) == []
    bad = boss.get("/admin/audit?who=dave&from=yesterday")
    assert bad.status_code == 400 and banner(bad) == "From: write a date as YYYY-MM-DD"
    assert 'name="who" value="dave"' in bad.text
    boss.close()


# --- reports and exports -----------------------------------------------------------


def set_cost(panel: Panel, order_id: int, cost: str, provider_id: int | None = None) -> None:
    async def change(db: Database) -> None:
        async with db.write() as repos:
            values = {"upstream_charge": parse_amount(cost), "provider_id": provider_id}
            await repos.orders.update(order_id, values, utcnow())

    panel.run(change)


def test_the_report_sums_per_service_provider_and_customer(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    followers, likes = panel.service(name="Followers", rate="0.90"), panel.service(name="Likes", rate="0.30")
    up = panel.run(lambda db: providers.add_provider(db, "up", "http://127.0.0.1:9/api/v2", "k"))
    a1, a2 = place(panel, followers), place(panel, likes, quantity=2000)
    b1 = place(panel, followers, "bob", quantity=3000)
    set_cost(panel, a1, "0.50", up)
    set_cost(panel, b1, "1.25", up)
    panel.update_order(a2, "Canceled")  # refunded: charged nothing in the end
    boss = browser_for(server, "boss")

    def table(by: str) -> list[tuple[str, ...]]:
        page = boss.get(f"/admin/reports?by={by}")
        assert page.status_code == 200 and '<svg class="chart"' in page.text
        body = re.search(r'<table id="report">(.*?)</table>', page.text, re.S)
        assert body is not None
        rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*" + r'<td class="num">([^<]*)</td>\s*' * 4, body.group(1), re.S)
        total = re.search(r'id="report-total">' + r"<th[^>]*>([^<]*)</th>" * 5, body.group(1))
        assert total is not None
        return [tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in row) for row in rows] + [total.groups()]

    assert table("service") == [
        (f"#{followers} Followers", "2", "3.60", "1.75", "1.85"),
        (f"#{likes} Likes", "1", "0.00", "0.00", "0.00"),
        ("Total", "3", "3.60", "1.75", "1.85"),
    ]
    assert table("provider") == [
        (f"#{up} up", "2", "3.60", "1.75", "1.85"),
        ("(manual)", "1", "0.00", "0.00", "0.00"),
        ("Total", "3", "3.60", "1.75", "1.85"),
    ]
    bob, alice = user(panel, "bob"), user(panel, "alice")
    assert table("customer") == [
        (f"#{bob.id} bob", "1", "2.70", "1.25", "1.45"),
        (f"#{alice.id} alice", "2", "0.90", "0.50", "0.40"),
        ("Total", "3", "3.60", "1.75", "1.85"),
    ]
    tomorrow = utcnow().date() + timedelta(days=1)
    empty = boss.get(f"/admin/reports?from={tomorrow}&to={tomorrow}")
    assert "No orders in these days." in empty.text
    wrong = boss.get(f"/admin/reports?from={tomorrow}&to={utcnow().date()}")
    assert wrong.status_code == 400 and banner(wrong) == "To: the last day comes before the first"
    boss.close()


def test_the_ledger_export_is_exact_and_neutralises_formulas_byte_for_byte(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    notes = ["=1+2", "+44 20 7946", "@SUM(A1)", "\tTAB", "\rCR", "plain, with a comma", 'say "hi"']
    for note in notes:
        panel.run(lambda db, note=note: accounts.fund(db, "alice", parse_amount("1"), note))
    panel.run(lambda db: accounts.fund(db, "alice", parse_amount("-1.5"), "-correction"))

    async def entries(db: Database) -> list[sa.Row[tuple[object, ...]]]:
        query = (
            sa.select(ledger_entries, users.c.username)
            .join(users, users.c.id == ledger_entries.c.user_id)
            .order_by(ledger_entries.c.id)
        )
        async with db.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    expected = "id,created_at,customer,kind,amount,balance_after,order_id,note\r\n"
    quoted = {"\rCR": '"\'\rCR"', "plain, with a comma": '"plain, with a comma"', 'say "hi"': '"say ""hi"""'}
    for row in panel.run(entries):
        note = row.note
        cell = quoted.get(note) or ("'" + note if note[:1] in ("=", "+", "-", "@", "\t") else note)
        money = format_amount(row.amount)
        money = "'" + money if money.startswith("-") else money
        moment = iso_utc(row.created_at)
        expected += (
            f"{row.id},{moment},{row.username},{row.kind},{money},{format_amount(row.balance_after)},,{cell}\r\n"
        )
    for piece in ("'=1+2\r\n", "'+44 20 7946\r\n", "'@SUM(A1)\r\n", "'\tTAB\r\n", "'-1.50,", "'-correction\r\n"):
        assert piece in expected
    boss = browser_for(server, "boss")
    today = utcnow().date()
    export = boss.http.get(f"/admin/reports/export?kind=ledger&from={today}&to={today}")
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.headers["content-disposition"] == f'attachment; filename="ledger-{today}-{today}.csv"'
    assert export.content == expected.encode()
    tomorrow = today + timedelta(days=1)
    nothing = boss.http.get(f"/admin/reports/export?kind=payments&from={tomorrow}&to={tomorrow}")
    assert (
        nothing.text
        == "id,created_at,customer,gateway,status,amount,fee,bonus,currency,reference,note,confirmed_at\r\n"
    )
    wrong = boss.http.get("/admin/reports/export?kind=users")
    assert wrong.status_code == 400 and banner(wrong) == "Choose orders, payments or ledger"
    boss.close()


def test_an_export_streams_in_chunks_with_the_same_bytes(site: tuple[Panel, LiveServer]) -> None:
    """Chunk boundaries lose or repeat nothing: 1 row at a time gives the bytes 1000 at a time give."""
    panel, _ = site
    service = panel.service()
    for _ in range(5):
        place(panel, service)
    days = day_range(str(utcnow().date()), str(utcnow().date()))

    async def pieces(db: Database, chunk: int) -> list[str]:
        return [piece async for piece in exports.export_csv(db, ExportKind.ORDERS, days, chunk=chunk)]

    one_by_one = panel.run(lambda db: pieces(db, 1))
    whole = panel.run(lambda db: pieces(db, 1000))
    assert len(one_by_one) == 6 and len(whole) == 2
    assert "".join(one_by_one) == "".join(whole)
    assert "".join(whole).count(f",alice,{service},Followers,{LINK},1000,,Pending,0.90,0.00,") == 5
