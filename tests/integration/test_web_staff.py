"""Staff accounts on the Staff page, and two-factor login, over real HTTP on both back ends."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from smmpanel.db.tables import recovery_codes, two_factor
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.roles import Role
from smmpanel.usecases import accounts, audit, tickets
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.staff import PASSWORD, Browser, code_for, recovery_codes_on, secret_on


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[tuple[Panel, LiveServer]]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    yield panel, server
    panel.close()


@pytest.fixture
def boss(site: tuple[Panel, LiveServer]) -> Iterator[Browser]:
    browser = Browser(site[1].base_url)
    assert browser.log_in("boss").headers["location"] == "/admin"
    browser.get("/admin")
    yield browser
    browser.close()


def notice(page: object) -> str:
    found = re.search(r'class="banner (?:notice|error)"[^>]*>([^<]*)<', getattr(page, "text", ""))
    assert found is not None, getattr(page, "text", "")[:3000]
    return html.unescape(found.group(1))


def actions(panel: Panel) -> list[tuple[str, str, str]]:
    entries = panel.run(lambda db: audit.audit_page(db, limit=500)).items
    return [(e.actor, e.action, e.target) for e in reversed(entries)]


def user(panel: Panel, username: str) -> accounts.Customer:
    return next(u for u in panel.run(accounts.list_customers) if u.username == username)


def test_the_owner_adds_changes_and_disables_staff(site: tuple[Panel, LiveServer], boss: Browser) -> None:
    panel, server = site
    added = boss.post("/admin/staff", username="sue", role="support")
    assert added.status_code == 200 and added.headers["cache-control"] == "no-store"
    password = re.search(r'<pre id="new-password">([^<]+)</pre>', added.text)
    assert password is not None
    assert user(panel, "sue").role == "support"

    sue = Browser(server.base_url)
    assert sue.log_in("sue", html.unescape(password.group(1))).headers["location"] == "/admin/tickets"
    assert sue.get("/admin/tickets").status_code == 200
    assert sue.get("/admin").status_code == 404 and sue.get("/admin/staff").status_code == 404

    sue_id = user(panel, "sue").id
    boss.follow(boss.post(f"/admin/staff/{sue_id}/role", role="finance"))
    assert sue.get("/admin/tickets").status_code == 404 and sue.get("/admin").status_code == 200

    refused = boss.post(f"/admin/staff/{sue_id}/role", role="superuser")
    assert refused.status_code == 400 and "role must be one of" in notice(refused)
    duplicate = boss.post("/admin/staff", username="sue", role="admin")
    assert duplicate.status_code == 400 and "already exists" in notice(duplicate) and 'value="sue"' in duplicate.text

    boss.follow(boss.post(f"/admin/staff/{sue_id}/disabled", disabled="1"))
    assert sue.get("/admin").status_code == 303  # her session ends at once
    assert sue.log_in("sue", html.unescape(password.group(1))).status_code == 400
    sue.close()

    # The panel keeps an owner: the only one can neither step down nor be disabled.
    boss_id = user(panel, "boss").id
    alone = boss.post(f"/admin/staff/{boss_id}/role", role="admin")
    assert alone.status_code == 400 and "only owner" in notice(alone)
    assert boss.post(f"/admin/staff/{boss_id}/disabled", disabled="1").status_code == 400
    assert user(panel, "boss").role == Role.OWNER
    assert actions(panel) == [
        ("boss", "staff.create", "user sue"),
        ("boss", "staff.role", "user sue"),
        ("boss", "staff.disable", "user sue"),
    ]
    assert "staff.role" in boss.get("/admin/audit").text


def test_two_factor_enrolment_codes_and_recovery_codes(site: tuple[Panel, LiveServer], boss: Browser) -> None:
    panel, server = site
    boss.post("/account/two-factor/start")
    page = boss.get("/account/two-factor")
    assert "<svg" in page.text and page.headers["cache-control"] == "no-store"  # the QR code, drawn by the panel
    secret = secret_on(page)
    wrong = boss.post("/account/two-factor/confirm", code="000000" if code_for(secret) != "000000" else "111111")
    assert wrong.status_code == 400
    first = code_for(secret)
    confirmed = boss.post("/account/two-factor/confirm", code=first)
    codes = recovery_codes_on(confirmed)
    assert len(codes) == 10 and len(set(codes)) == 10

    async def stored(db: Database) -> tuple[list[str], str]:
        async with db.read() as repos:
            conn = repos.users._conn  # the raw rows: what the database holds
            digests = [row.code_hash for row in await conn.execute(sa.select(recovery_codes.c.code_hash))]
            secrets = [row.secret for row in await conn.execute(sa.select(two_factor.c.secret))]
        return digests, secrets[0]

    digests, kept = panel.run(stored)
    assert len(digests) == 10 and not {c.replace("-", "") for c in codes} & set(digests) and kept == secret

    # The password alone opens nothing: a half-logged-in session sees only the code page.
    other = Browser(server.base_url)
    assert other.log_in("boss").headers["location"] == "/login/code"
    assert other.get("/admin").status_code == 303 and other.get("/orders/new").status_code == 303
    other.get("/login/code")
    reused = other.post("/login/code", code=first)
    assert reused.status_code == 400  # the code that confirmed the enrolment, in its own 30 s step
    assert other.post("/login/code", code=code_for(secret, steps_ahead=1)).headers["location"] == "/admin"
    assert other.get("/admin").status_code == 200
    other.close()

    def recover(code: str) -> int:
        browser = Browser(server.base_url)
        browser.log_in("boss")
        browser.get("/login/code")
        status = browser.post("/login/code", code=code.upper()).status_code
        browser.close()
        return status

    assert recover(codes[0]) == 303
    assert recover(codes[0]) == 400  # each recovery code works once
    assert recover(codes[1]) == 303
    assert "Recovery codes left: 8" in boss.get("/account/two-factor").text
    assert recover("not-a-code") == 400
    assert ("boss", "two_factor.enable", "user boss") in actions(panel)


def enrol(browser: Browser) -> str:
    browser.get("/account/two-factor")
    browser.post("/account/two-factor/start")
    secret = secret_on(browser.get("/account/two-factor"))
    assert browser.post("/account/two-factor/confirm", code=code_for(secret)).status_code == 200
    return secret


def test_owner_and_admin_must_enrol_once_the_owner_requires_it(site: tuple[Panel, LiveServer], boss: Browser) -> None:
    panel, server = site
    for name, role in (("ann", Role.ADMIN), ("sam", Role.SUPPORT)):
        panel.run(lambda db, n=name, r=role: accounts.create_customer(db, n, password=PASSWORD, staff_role=r))
    boss.follow(boss.post("/admin/staff/two-factor-required", required="1"))

    ann = Browser(server.base_url)
    ann.log_in("ann")
    for path in ("/admin", "/admin/customers", "/admin/orders"):
        sent = ann.get(path)
        assert (sent.status_code, sent.headers.get("location")) == (303, "/account/two-factor"), path
    assert 'id="enrol-required"' in ann.get("/account/two-factor").text
    enrol(ann)
    assert ann.get("/admin").status_code == 200
    refused = ann.post("/account/two-factor/off", code="123456")
    assert refused.status_code == 400 and "required for your role" in notice(refused)

    sam = Browser(server.base_url)
    sam.log_in("sam")
    assert sam.get("/admin/tickets").status_code == 200  # support is not asked to
    assert boss.get("/admin").headers.get("location") == "/account/two-factor"  # nor is the owner spared
    enrol(boss)
    assert boss.get("/admin/staff").status_code == 200
    for browser in (ann, sam):
        browser.close()
    assert ("boss", "setting.update", "setting two_factor_required_for_staff") in actions(panel)

    # A lost device: the owner removes ann's two-factor login; she must enrol again before anything else.
    boss.follow(boss.post(f"/admin/staff/{user(panel, 'ann').id}/two-factor"))
    again = Browser(server.base_url)
    assert again.log_in("ann").headers["location"] == "/admin"
    assert again.get("/admin").headers.get("location") == "/account/two-factor"
    again.close()


def test_customers_may_turn_two_factor_on_and_off(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    panel.run(lambda db: accounts.create_customer(db, "carol", password=PASSWORD))
    carol = Browser(server.base_url)
    carol.log_in("carol")
    secret = enrol(carol)
    later = Browser(server.base_url)
    assert later.log_in("carol").headers["location"] == "/login/code"
    later.get("/login/code")
    assert later.post("/login/code", code=code_for(secret, steps_ahead=1)).headers["location"] == "/orders/new"
    later.close()
    off = carol.post("/account/two-factor/off", code=code_for(secret, steps_ahead=1))
    assert off.status_code == 400  # that step was just used to log in
    codes_left = carol.get("/account/two-factor")
    assert "Recovery codes left: 10" in codes_left.text
    carol.close()


def test_tickets_are_assigned_filtered_and_every_answer_is_audited(
    site: tuple[Panel, LiveServer], boss: Browser
) -> None:
    panel, server = site
    for name, role in (("sam", Role.SUPPORT), ("fin", Role.FINANCE)):
        panel.run(lambda db, n=name, r=role: accounts.create_customer(db, n, password=PASSWORD, staff_role=r))
    panel.run(lambda db: accounts.create_customer(db, "alice"))
    alice = user(panel, "alice")
    first = panel.run(lambda db: tickets.open_ticket(db, alice.id, "Where is my order", "Hello?"))
    second = panel.run(lambda db: tickets.open_ticket(db, alice.id, "Refund please", "Hi"))
    sam_id, fin_id = user(panel, "sam").id, user(panel, "fin").id

    page = boss.get(f"/admin/tickets/{first}")
    assert f'<option value="{sam_id}"' in page.text and f'<option value="{fin_id}"' not in page.text
    boss.follow(boss.post(f"/admin/tickets/{first}/assign", assignee=str(sam_id)))
    refused = boss.post(f"/admin/tickets/{second}/assign", assignee=str(fin_id))  # finance does not do tickets
    assert refused.status_code == 400 and "handles tickets" in notice(refused)

    sam = Browser(server.base_url)
    sam.log_in("sam")
    mine = sam.get("/admin/tickets?mine=1")
    assert f"/admin/tickets/{first}" in mine.text and f"/admin/tickets/{second}" not in mine.text
    everyone = sam.get("/admin/tickets")
    assert f"/admin/tickets/{first}" in everyone.text and f"/admin/tickets/{second}" in everyone.text
    sam.follow(sam.post(f"/admin/tickets/{second}/assign", assignee="me"))
    sam.get(f"/admin/tickets/{second}")
    sam.follow(sam.post(f"/admin/tickets/{second}/reply", message="On its way"))
    sam.follow(sam.post(f"/admin/tickets/{second}/close"))
    sam.close()
    assert [t.assigned_to for t in panel.run(lambda db: tickets.tickets_for_operator(db, assigned_to=sam_id))] == [
        sam_id,
        sam_id,
    ]
    assert actions(panel) == [
        ("boss", "ticket.assign", f"ticket {first}"),
        ("sam", "ticket.assign", f"ticket {second}"),
        ("sam", "ticket.reply", f"ticket {second}"),
        ("sam", "ticket.close", f"ticket {second}"),
    ]
