"""The operator's dashboard over real HTTP: who may see it, CSRF, money, prices, escaping, paging."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.money import format_amount, parse_amount
from smmpanel.usecases import accounts, audit, catalog, orders, providers, refills, reports, tickets
from tests.integration.test_engine import add_provider, link
from tests.support.engine import order_of, refusing_address, run_passes
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.simulator import LiveSimulator, live_simulator

PASSWORD = "correct horse"
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
LINK = "https://instagram.com/p/abc"


class Session:
    """A logged-in httpx session: cookies kept, the CSRF token read from a page."""

    def __init__(self, base_url: str, username: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        login = self.http.post(
            "/login", data={"csrf_token": self._token("/login"), "username": username, "password": PASSWORD}
        )
        assert login.status_code == 303, login.text

    def _token(self, path: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.http.get(path).text)
        assert found is not None
        return found.group(1)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params) if params else self.http.get(path)

    def post(self, path: str, *, csrf: bool = True, **fields: Any) -> httpx.Response:
        data: dict[str, Any] = dict(fields)
        if csrf:
            data["csrf_token"] = self._token("/account/password")
        return self.http.post(path, data=data)

    def close(self) -> None:
        self.http.close()


def banner(page: httpx.Response, kind: str) -> str:
    found = re.search(rf'class="banner {kind}"[^>]*>([^<]*)<', page.text)
    assert found is not None, page.text[:3000]
    return html.unescape(found.group(1))


def followed(session: Session, response: httpx.Response) -> httpx.Response:
    """The page a successful form redirected to (POST, redirect, GET)."""
    assert response.status_code == 303, response.text[:3000]
    return session.get(response.headers["location"])


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[tuple[Panel, LiveServer]]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    for name in ("alice", "bob"):
        panel.run(lambda db, name=name: accounts.create_customer(db, name, parse_amount("100")))
    yield panel, server
    panel.close()


@pytest.fixture
def boss(site: tuple[Panel, LiveServer]) -> Iterator[Session]:
    session = Session(site[1].base_url, "boss")
    yield session
    session.close()


def customer(panel: Panel, username: str) -> Any:
    """The user's record (without checking a password: hashing one costs a second)."""
    return next(user for user in panel.run(accounts.list_customers) if user.username == username)


def place_many(panel: Panel, username: str, params: list[dict[str, Any]]) -> list[int]:
    """Place orders as the customer would through the API, all in one go."""
    user_id = customer(panel, username).id

    async def work(db: Database) -> list[int]:
        return [await orders.place_order(db, user_id, {k: str(v) for k, v in p.items()}) for p in params]

    return panel.run(work)


def place(panel: Panel, username: str, **params: Any) -> int:
    return place_many(panel, username, [params])[0]


def audit_entries(panel: Panel) -> list[Any]:
    return panel.run(lambda db: audit.audit_page(db, limit=500)).items


def test_a_customer_gets_404_on_every_admin_page(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service()
    order = place(panel, "alice", service=service, link=LINK, quantity=100)
    alice = customer(panel, "alice")
    ticket = panel.run(lambda db: tickets.open_ticket(db, alice.id, "Help", "Where is my order?"))
    pages = [
        "/admin",
        "/admin/customers",
        f"/admin/customers/{alice.id}",
        "/admin/services",
        "/admin/services/new",
        f"/admin/services/{service}",
        "/admin/services/import",
        "/admin/orders",
        f"/admin/orders/{order}",
        "/admin/attention",
        "/admin/refills",
        "/admin/providers",
        "/admin/tickets",
        f"/admin/tickets/{ticket}",
        "/admin/audit",
        "/admin/settings",
    ]
    panel.run(lambda db: accounts.set_password(db, "alice", PASSWORD))
    session = Session(server.base_url, "alice")
    try:
        for path in pages:
            assert session.get(path).status_code == 404, path
        # Posting (with a valid token) is answered the same way, and changes nothing.
        assert session.post(f"/admin/customers/{alice.id}/fund", amount="50").status_code == 404
        assert session.post(f"/admin/orders/{order}/complete").status_code == 404
    finally:
        session.close()
    assert panel.balance("alice") == "99.91"
    anonymous = httpx.get(f"{server.base_url}/admin/orders", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")


def test_every_admin_page_renders_for_the_operator(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    service = panel.service()
    order = place(panel, "alice", service=service, link=LINK, quantity=100)
    alice = customer(panel, "alice")
    for path in [
        "/admin",
        "/admin/customers",
        f"/admin/customers/{alice.id}",
        "/admin/services",
        "/admin/services/new",
        f"/admin/services/{service}",
        "/admin/services/import",
        "/admin/orders",
        f"/admin/orders/{order}",
        "/admin/attention",
        "/admin/refills",
        "/admin/providers",
        "/admin/tickets",
        "/admin/audit",
        "/admin/settings",
    ]:
        page = boss.get(path)
        assert page.status_code == 200, (path, page.text[:2000])
    assert boss.get("/admin/orders/999999").status_code == 404
    assert boss.get("/admin/customers/999999").status_code == 404


def test_forms_without_csrf_are_refused_and_change_nothing(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    service = panel.service()
    order = place(panel, "alice", service=service, link=LINK, quantity=1000)
    alice = customer(panel, "alice")
    attempts = [
        (f"/admin/customers/{alice.id}/fund", {"amount": "50", "note": "free money"}),
        (f"/admin/customers/{alice.id}/discount", {"discount": "50"}),
        (f"/admin/customers/{alice.id}/rates", {"service_id": service, "rate": "0.01"}),
        (f"/admin/customers/{alice.id}/disabled", {"disabled": "1"}),
        ("/admin/services/rates", {"ids": [service], "percent": "50", "direction": "down"}),
        (f"/admin/orders/{order}/cancel", {}),
        ("/admin/settings", {"funds_instructions": "pay me", "low_balance": "1"}),
    ]
    for path, fields in attempts:
        refused = boss.post(path, csrf=False, **fields)
        assert refused.status_code == 403, path
        assert boss.post(path, csrf=False, csrf_token="forged", **fields).status_code == 403, path
    assert panel.balance("alice") == "99.10"
    after = customer(panel, "alice")
    assert (after.discount, after.disabled) == (0, False)
    assert panel.run(lambda db: catalog.list_services(db, enabled_only=False))[0].rate == parse_amount("0.90")
    assert panel.run(lambda db: orders.orders_of_customer(db, alice.id, [order]))[order].status is OrderStatus.PENDING
    assert audit_entries(panel) == []


def test_funding_lands_in_the_ledger_and_the_audit_log(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    alice = customer(panel, "alice")
    page = followed(boss, boss.post(f"/admin/customers/{alice.id}/fund", amount="25.5", note="bank transfer #42"))
    assert "balance now 125.50" in banner(page, "notice")
    assert panel.balance("alice") == "125.50"
    _, entries = panel.run(lambda db: accounts.ledger_of(db, "alice", 10))
    assert (entries[0].kind, entries[0].amount, entries[0].note) == ("topup", parse_amount("25.5"), "bank transfer #42")
    assert "bank transfer #42" in page.text  # the customer's ledger on the page

    # A correction that would go below zero is refused, the form comes back with the input, nothing moves.
    refused = boss.post(f"/admin/customers/{alice.id}/fund", amount="-500", note="oops")
    assert refused.status_code == 400
    assert "below zero" in banner(refused, "error")
    assert 'value="-500"' in refused.text and 'value="oops"' in refused.text
    bad = boss.post(f"/admin/customers/{alice.id}/fund", amount="1.234567")
    assert bad.status_code == 400 and "at most 5 decimals" in banner(bad, "error")
    followed(boss, boss.post(f"/admin/customers/{alice.id}/fund", amount="-0.5", note="correction"))
    assert panel.balance("alice") == "125.00"
    assert panel.ledger_ok()

    entries_logged = audit_entries(panel)
    assert [(e.actor, e.action, e.target) for e in entries_logged] == [
        ("boss", "customer.adjustment", "customer alice"),
        ("boss", "customer.topup", "customer alice"),
    ]
    topup = entries_logged[1]
    assert topup.before == {"balance": "100.00"}
    assert topup.after == {"balance": "125.50", "amount": "25.50", "note": "bank transfer #42"}
    page = boss.get("/admin/audit")
    assert "customer.topup" in page.text and "bank transfer #42" in page.text and "125.50" in page.text


def test_a_custom_rate_and_a_discount_change_what_the_api_charges_and_shows(
    site: tuple[Panel, LiveServer], boss: Session
) -> None:
    panel, _ = site
    service = panel.service(rate="0.90")
    other = panel.service(name="Likes", rate="2.00")
    alice = customer(panel, "alice")
    alice_key = panel.run(lambda db: accounts.rotate_key(db, "alice")).api_key
    bob_key = panel.run(lambda db: accounts.rotate_key(db, "bob")).api_key

    followed(boss, boss.post(f"/admin/customers/{alice.id}/discount", discount="12.5"))
    rates = {item["service"]: item["rate"] for item in panel.call(alice_key, "services")}
    assert rates == {service: "0.7875", other: "1.75"}
    assert {item["rate"] for item in panel.call(bob_key, "services")} == {"0.90", "2.00"}

    followed(boss, boss.post(f"/admin/customers/{alice.id}/rates", service_id=str(service), rate="0.5"))
    rates = {item["service"]: item["rate"] for item in panel.call(alice_key, "services")}
    assert rates == {service: "0.50", other: "1.75"}  # the custom rate is not discounted again

    order = panel.call(alice_key, "add", service=service, link=LINK, quantity=1000)["order"]
    assert panel.call(alice_key, "status", order=order)["charge"] == "0.50"
    assert panel.balance("alice") == "99.50"
    order = panel.call(alice_key, "add", service=other, link=LINK, quantity=333)["order"]
    assert panel.call(alice_key, "status", order=order)["charge"] == "0.58275"  # 1.75 × 333 / 1000
    order = panel.call(bob_key, "add", service=service, link=LINK, quantity=1000)["order"]
    assert panel.call(bob_key, "status", order=order)["charge"] == "0.90"

    # Removing the custom rate falls back to the discount; a negative or absurd discount is refused.
    followed(boss, boss.post(f"/admin/customers/{alice.id}/rates/remove", service_id=str(service)))
    assert {item["service"]: item["rate"] for item in panel.call(alice_key, "services")}[service] == "0.7875"
    refused = boss.post(f"/admin/customers/{alice.id}/discount", discount="150")
    assert refused.status_code == 400 and "between 0 and 100" in banner(refused, "error")
    actions = [entry.action for entry in audit_entries(panel)]
    assert actions == ["customer.custom_rate", "customer.custom_rate", "customer.discount"]
    assert panel.ledger_ok()


def test_bulk_price_change_skips_locked_services(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    first = panel.service(rate="0.90")
    locked = panel.service(name="Locked", rate="1.00", price_locked=True)
    third = panel.service(name="Views", rate="0.33333")
    untouched = panel.service(name="Not selected", rate="5")
    response = boss.post("/admin/services/rates", ids=[first, locked, third], percent="10", direction="up")
    page = followed(boss, response)
    notice = banner(page, "notice")
    assert "Rates changed on 2 services" in notice and f"#{locked}" in notice
    rates = {s.id: format_amount(s.rate) for s in panel.run(lambda db: catalog.list_services(db, enabled_only=False))}
    assert rates == {first: "0.99", locked: "1.00", third: "0.36666", untouched: "5.00"}

    followed(boss, boss.post("/admin/services/rates", ids=[first], percent="10", direction="down"))
    rates = {s.id: format_amount(s.rate) for s in panel.run(lambda db: catalog.list_services(db, enabled_only=False))}
    assert rates[first] == "0.891"
    refused = boss.post("/admin/services/rates", percent="10", direction="up")
    assert refused.status_code == 400 and "select at least one" in banner(refused, "error")
    bulk = [e for e in audit_entries(panel) if e.action == "service.bulk_rate"]
    assert bulk[-1].before == {str(first): "0.90", str(third): "0.33333"}
    assert bulk[-1].after == {str(first): "0.99", str(third): "0.36666", "percent": "10.00"}


def test_services_can_be_created_edited_and_reordered(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    fields = {
        "name": "Followers HQ",
        "category": "Instagram",
        "type": "Default",
        "rate": "1.2",
        "min": "10",
        "max": "5000",
        "refill_days": "14",
        "position": "0",
        "enabled": "1",
        "refill": "1",
        "deny_duplicate_link": "1",
    }
    refused = boss.post("/admin/services/new", **{**fields, "max": "5"})
    assert refused.status_code == 400 and "max at least min" in banner(refused, "error")
    assert 'value="Followers HQ"' in refused.text
    created = boss.post("/admin/services/new", **fields)
    service_id = int(created.headers["location"].rsplit("/", 1)[1])
    service = panel.run(lambda db: catalog.list_services(db, enabled_only=False))[0]
    assert (service.rate, service.refill, service.cancel, service.deny_duplicate_link, service.refill_days) == (
        parse_amount("1.2"),
        True,
        False,
        True,
        14,
    )
    followed(boss, boss.post(f"/admin/services/{service_id}", **{**fields, "rate": "1.3", "cancel": "1"}))
    second = panel.service(name="Second", category="Instagram")
    tiktok = panel.service(name="Views", category="TikTok", position=100)
    followed(boss, boss.post(f"/admin/services/{second}/move", step="up"))
    followed(boss, boss.post("/admin/categories/move", name="TikTok", step="up"))
    listing = panel.run(lambda db: catalog.list_services(db, enabled_only=True))
    assert [s.id for s in listing] == [tiktok, second, service_id]
    followed(boss, boss.post(f"/admin/services/{second}/enabled", enabled="0"))
    assert [s.id for s in panel.run(lambda db: catalog.list_services(db, enabled_only=True))] == [tiktok, service_id]
    update = next(e for e in audit_entries(panel) if e.action == "service.update")
    assert update.before == {"enabled": True} and update.after == {"enabled": False}


def test_customer_supplied_text_is_escaped_on_admin_pages(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    service = panel.service(name=XSS, category=XSS, description=XSS)
    order = place(panel, "alice", service=service, link=f"https://x.io/{XSS}", quantity=100)
    alice = customer(panel, "alice")
    ticket = panel.run(lambda db: tickets.open_ticket(db, alice.id, XSS, f"Hello {XSS}"))
    panel.run(lambda db: accounts.fund(db, "alice", parse_amount("1"), XSS, audit=audit.Audit("boss")))
    for path in [
        "/admin/orders",
        f"/admin/orders/{order}",
        "/admin/orders?q=script",
        "/admin/tickets",
        f"/admin/tickets/{ticket}",
        f"/admin/customers/{alice.id}",
        "/admin/services",
        f"/admin/services/{service}",
        "/admin/audit",
    ]:
        page = boss.get(path)
        assert page.status_code == 200, path
        assert XSS not in page.text, path
        assert ESCAPED in page.text, path
    # Answers go back escaped too.
    followed(boss, boss.post(f"/admin/tickets/{ticket}/reply", message=XSS))
    assert XSS not in boss.get(f"/admin/tickets/{ticket}").text


def test_orders_are_filtered_and_paged_by_keyset(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    service = panel.service(rate="0.01", min=1)
    alice_orders = place_many(
        panel, "alice", [{"service": service, "link": f"https://x.io/a{i}", "quantity": 10} for i in range(55)]
    )
    bob_order = place(panel, "bob", service=service, link="https://x.io/bob-special", quantity=10)

    def ids(page: httpx.Response) -> list[int]:
        return [int(n) for n in re.findall(r'<td><a href="/admin/orders/(\d+)">\1</a></td>', page.text)]

    first = boss.get("/admin/orders")
    assert ids(first) == [bob_order, *reversed(alice_orders)][:50]
    older = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert older is not None
    second = boss.get(html.unescape(older.group(1)))
    assert ids(second) == list(reversed(alice_orders))[49:]
    assert 'rel="next"' not in second.text and 'rel="prev"' in second.text
    assert ids(boss.get("/admin/orders", customer="bob")) == [bob_order]
    assert ids(boss.get("/admin/orders", q="BOB-spec")) == [bob_order]
    assert 'id="search-window"' not in boss.get("/admin/orders", q="BOB-spec").text
    short = boss.get("/admin/orders", q="a1")  # too short for an index: the newest orders only, said so
    assert ids(short) == [alice_orders[i] for i in (19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 1)]
    assert 'id="search-window"' in short.text
    assert ids(boss.get("/admin/orders", q=str(alice_orders[3]))) == [alice_orders[3]]
    assert ids(boss.get("/admin/orders", customer="nobody")) == []
    assert ids(boss.get("/admin/orders", status="Completed")) == []
    filtered = boss.get("/admin/orders", customer="alice", service=str(service))
    older = re.search(r'<a href="([^"]+)" rel="next">', filtered.text)
    assert older is not None and "customer=alice" in html.unescape(older.group(1))


def test_the_operator_fulfils_an_order_by_hand_with_exact_refunds(
    site: tuple[Panel, LiveServer], boss: Session
) -> None:
    panel, _ = site
    service = panel.service(rate="0.90")
    order = place(panel, "alice", service=service, link=LINK, quantity=777)  # charge 0.6993
    followed(boss, boss.post(f"/admin/orders/{order}/link", link="https://instagram.com/p/fixed"))
    refused = boss.post(f"/admin/orders/{order}/link", link="not a link")
    assert refused.status_code == 400 and banner(refused, "error") == "Incorrect link"
    followed(boss, boss.post(f"/admin/orders/{order}/start-count", start_count="1500"))
    followed(boss, boss.post(f"/admin/orders/{order}/status", status="In progress"))
    refused = boss.post(f"/admin/orders/{order}/partial", remains="778")
    assert refused.status_code == 400 and "between 0 and 777" in banner(refused, "error")
    page = followed(boss, boss.post(f"/admin/orders/{order}/partial", remains="333"))
    assert "Partial" in banner(page, "notice")
    alice = customer(panel, "alice")
    found = panel.run(lambda db: orders.orders_of_customer(db, alice.id, [order]))[order]
    assert (found.link, found.start_count, found.status, found.remains) == (
        "https://instagram.com/p/fixed",
        1500,
        OrderStatus.PARTIAL,
        333,
    )
    _, entries = panel.run(lambda db: accounts.ledger_of(db, "alice", 10))
    assert (entries[0].kind, format_amount(entries[0].amount)) == ("refund", "0.2997")
    assert format_amount(found.refunded) == "0.2997"  # 0.6993 × 333 / 777, rounded down
    again = boss.post(f"/admin/orders/{order}/cancel")
    assert again.status_code == 400 and "already Partial" in banner(again, "error")
    assert panel.ledger_ok()
    logged = [e for e in audit_entries(panel) if e.action == "order.update"]
    assert logged[0].after == {"status": "Partial", "start_count": 1500, "remains": 333, "refunded": "0.2997"}


def test_refills_are_approved_or_rejected(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    service = panel.service(refill=True)
    first = place(panel, "alice", service=service, link=LINK, quantity=100)
    second = place(panel, "alice", service=service, link=LINK + "2", quantity=100)
    panel.update_order(first, "Completed")
    panel.update_order(second, "Completed")
    alice = customer(panel, "alice")
    asked = panel.run(lambda db: refills.request_refills(db, alice.id, [first, second]))
    page = boss.get("/admin/refills")
    assert f'action="/admin/refills/{asked[first]}/approve"' in page.text
    followed(boss, boss.post(f"/admin/refills/{asked[first]}/approve"))
    followed(boss, boss.post(f"/admin/refills/{asked[second]}/reject"))
    statuses = panel.run(lambda db: refills.refills_of_customer(db, alice.id, [asked[first], asked[second]]))
    assert [statuses[asked[first]].status.value, statuses[asked[second]].status.value] == ["Completed", "Rejected"]
    refused = boss.post(f"/admin/refills/{asked[first]}/reject")
    assert refused.status_code == 400 and "already Completed" in banner(refused, "error")
    assert boss.post(f"/admin/refills/{asked[first]}/delete").status_code == 404


def test_tickets_are_answered_and_closed(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    alice = customer(panel, "alice")
    ticket = panel.run(lambda db: tickets.open_ticket(db, alice.id, "Slow order", "It has not started"))
    assert 'id="tickets-waiting">1<' in boss.get("/admin").text
    assert "Slow order" in boss.get("/admin/tickets").text
    empty = boss.post(f"/admin/tickets/{ticket}/reply", message="   ")
    assert empty.status_code == 400
    page = followed(boss, boss.post(f"/admin/tickets/{ticket}/reply", message="We are on it"))
    assert "We are on it" in page.text
    followed(boss, boss.post(f"/admin/tickets/{ticket}/close"))
    thread = panel.run(lambda db: tickets.ticket_for_customer(db, alice.id, ticket))
    assert thread.ticket.status.value == "Closed" and thread.messages[-1].body == "We are on it"
    assert 'id="tickets-waiting">0<' in boss.get("/admin").text


def test_the_overview_adds_up_the_ledger(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    service = panel.service(rate="0.90")
    kept = place(panel, "alice", service=service, link=LINK, quantity=1000)
    partial = place(panel, "bob", service=service, link=LINK, quantity=1000)
    panel.update_order(partial, "Partial", remains=500)
    panel.update_order(kept, "Completed")
    figures = panel.run(reports.overview)
    assert format_amount(figures.today.revenue) == "1.35"  # 0.90 + 0.90 − 0.45
    assert format_amount(figures.revenue) == "1.35" and figures.cost == 0 and len(figures.days) == 30
    assert figures.orders_by_status["Completed"] == 1 and figures.orders_by_status["Partial"] == 1
    page = boss.get("/admin")
    assert 'id="revenue-today">1.35 USD<' in page.text
    assert page.text.count('class="bar revenue"') == 30 and "<svg" in page.text


@pytest.fixture
def simulator() -> Iterator[LiveSimulator]:
    with live_simulator(seconds_per_step=0, seed=1, balance="5.00") as running:
        yield running


def test_providers_show_live_balance_a_masked_key_and_connection_errors(
    site: tuple[Panel, LiveServer], boss: Session, simulator: LiveSimulator
) -> None:
    panel, _ = site
    key = "simulator-key"
    refused = boss.post("/admin/providers", name="sim", url="ftp://nowhere", key=key)
    assert refused.status_code == 400 and key not in refused.text
    followed(boss, boss.post("/admin/providers", name="sim", url=simulator.api_url, key=key))
    page = boss.get("/admin/providers")
    assert "5.00" in page.text and key not in page.text and "…-key" in page.text
    provider_id = int(re.findall(r'href="/admin/providers/(\d+)"', page.text)[0])
    assert "balance 5.00" in banner(followed(boss, boss.post(f"/admin/providers/{provider_id}/test")), "notice")
    overview = boss.get("/admin")
    assert 'id="providers-low">1<' in overview.text  # 5.00 is under the default 10.00
    followed(boss, boss.post("/admin/settings", funds_instructions="Pay by bank", low_balance="2"))
    assert 'id="providers-low">0<' in boss.get("/admin").text

    followed(boss, boss.post(f"/admin/providers/{provider_id}", url=simulator.api_url, key="wrong-key-1234"))
    edit = boss.get(f"/admin/providers/{provider_id}")
    assert "wrong-key-1234" not in edit.text and "…1234" in edit.text
    failed = boss.post(f"/admin/providers/{provider_id}/test")
    assert failed.status_code == 502 and "Invalid API key" in banner(failed, "error")
    logged = {e.action: e for e in audit_entries(panel)}
    assert logged["provider.update"].after == {"url": simulator.api_url, "key": "…1234"}
    assert "wrong-key-1234" not in str([(e.before, e.after) for e in audit_entries(panel)])


def test_import_adds_percent_and_fixed_markups_and_keeps_locked_prices(
    site: tuple[Panel, LiveServer], boss: Session, simulator: LiveSimulator
) -> None:
    panel, _ = site
    followed(boss, boss.post("/admin/providers", name="sim", url=simulator.api_url, key="simulator-key"))
    page = followed(boss, boss.post("/admin/services/import", provider="sim", markup="20", fixed="0.05", only="1,2"))
    assert "2 created" in banner(page, "notice")
    imported = {s.name: s for s in panel.run(lambda db: catalog.list_services(db, enabled_only=False))}
    followers = imported["Instagram Followers [Refill 30 days]"]
    views = imported["TikTok Views Package 10k"]
    assert (format_amount(followers.rate), format_amount(views.rate)) == (
        "1.13",
        "3.05",
    )  # 0.90×1.2+0.05, 2.50×1.2+0.05
    panel.run(lambda db: catalog.update_service(db, views.id, catalog.ServiceChanges(price_locked=True)))

    followed(boss, boss.post("/admin/services/import", provider="sim", markup="10", fixed="0", only="1,2"))
    rates = {s.id: format_amount(s.rate) for s in panel.run(lambda db: catalog.list_services(db, enabled_only=False))}
    assert rates == {followers.id: "0.99", views.id: "3.05"}
    logged = [e for e in audit_entries(panel) if e.action == "provider.import"]
    assert logged[0].before == {str(followers.id): "1.13"}
    assert logged[0].after[str(followers.id)] == "0.99" and str(views.id) not in logged[0].after
    refused = boss.post("/admin/services/import", provider="nope", markup="10")
    assert refused.status_code == 400 and "no provider" in banner(refused, "error")


def test_rotating_a_key_shows_it_once(site: tuple[Panel, LiveServer], boss: Session) -> None:
    panel, _ = site
    alice = customer(panel, "alice")
    page = boss.post(f"/admin/customers/{alice.id}/key")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    found = re.search(r'<pre id="new-key">([^<]+)</pre>', page.text)
    assert found is not None
    assert panel.call(found.group(1), "balance")["balance"] == "100.00"
    assert found.group(1) not in boss.get(f"/admin/customers/{alice.id}").text
    followed(boss, boss.post(f"/admin/customers/{alice.id}/disabled", disabled="1"))
    assert panel.call(found.group(1), "balance") == {"error": "Invalid API key"}


OUTAGE_LINK = "https://instagram.com/p/outage"


def test_an_unreachable_provider_is_shown_apart_with_its_waiting_orders_and_canceled_in_one_click(
    site: tuple[Panel, LiveServer], boss: Session
) -> None:
    panel, _ = site
    service = panel.service(rate="0.90")
    with refusing_address() as dead_url:
        provider_id = add_provider(panel, "dead", dead_url, "dead-key")
        link(panel, service, "dead", 1)
        placed = [place(panel, "alice", service=service, link=OUTAGE_LINK, quantity=100) for _ in range(2)]
        run_passes(panel)

        overview = boss.get("/admin")
        assert 'id="providers-unreachable">1<' in overview.text
        assert 'id="providers-low">0<' in overview.text  # unreachable is not low on balance
        assert "provider unreachable: 2 orders waiting" in overview.text
        attention = boss.get("/admin/attention")
        assert "provider unreachable: 2 orders waiting" in attention.text
        assert "Nothing needs your attention" not in attention.text

        refused = boss.post(f"/admin/providers/{provider_id}", url=dead_url, outage_limit="soon")
        assert refused.status_code == 400
        assert "Outage limit: expected a duration" in banner(refused, "error")
        assert 'value="soon"' in refused.text
        followed(boss, boss.post(f"/admin/providers/{provider_id}", url=dead_url, outage_limit="2h"))
        assert 'value="2h"' in boss.get(f"/admin/providers/{provider_id}").text
        assert panel.run(lambda db: providers.provider_by_id(db, provider_id)).outage_limit == 7200

        page = followed(boss, boss.post(f"/admin/providers/{provider_id}/cancel-waiting"))
        assert banner(page, "notice") == "2 orders waiting for dead canceled and refunded."
        assert "provider unreachable: 0 orders waiting" in page.text  # still down, nothing waits
    assert [order_of(panel, n).status.value for n in placed] == ["Canceled"] * 2
    assert panel.balance("alice") == "100.00"
    actions = [entry.action for entry in audit_entries(panel)]
    assert "provider.cancel_waiting" in actions
    assert panel.ledger_ok()
