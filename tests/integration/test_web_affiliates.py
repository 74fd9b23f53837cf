"""Coupons and affiliates on the dashboard over real HTTP: forms, errors with what was typed, signup links."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from smmpanel.domain.coupons import CouponKind
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, affiliates, coupons
from tests.integration.test_web_admin import PASSWORD, Session, banner, followed
from tests.support.deposits import bank, deposit
from tests.support.panel import Panel
from tests.support.server import LiveServer


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[tuple[Panel, LiveServer]]:
    """A live panel with its operator ``boss`` and a customer ``alice``."""
    server = start_server()
    panel = Panel(database_url, server.api_url)
    for name, admin in (("boss", True), ("alice", False)):
        panel.run(lambda db, name=name, admin=admin: accounts.create_customer(db, name, password=PASSWORD, admin=admin))
    yield panel, server
    panel.close()


@pytest.fixture
def log_in(site: tuple[Panel, LiveServer]) -> Iterator[Callable[[str], Session]]:
    """Logged-in sessions by username, all closed at the end."""
    sessions: list[Session] = []

    def open_session(username: str) -> Session:
        sessions.append(Session(site[1].base_url, username))
        return sessions[-1]

    yield open_session
    for session in sessions:
        session.close()


def field(page: httpx.Response, name: str) -> str:
    found = re.search(rf'<input[^>]* name="{name}"[^>]* value="([^"]*)"', page.text)
    assert found is not None, page.text[:3000]
    return html.unescape(found.group(1))


def test_the_operator_makes_and_disables_coupons(
    site: tuple[Panel, LiveServer], log_in: Callable[[str], Session]
) -> None:
    boss = log_in("boss")
    panel, _ = site
    typed = {"code": "Half Off", "kind": "percent", "value": "50", "max_uses": "", "expires": ""}
    refused = boss.post("/admin/coupons", **typed)
    assert refused.status_code == 400
    assert banner(refused, "error") == "A coupon code is 3-32 letters, digits, '_' or '-'"
    assert field(refused, "code") == "Half Off" and field(refused, "value") == "50"
    assert '<option value="percent" selected>' in refused.text

    bad_date = boss.post("/admin/coupons", **{**typed, "code": "HALF", "expires": "31/12/2030"})
    assert banner(bad_date, "error") == "Expires: write a date as YYYY-MM-DD"
    assert field(bad_date, "expires") == "31/12/2030"

    made = followed(
        boss, boss.post("/admin/coupons", **{**typed, "code": "half", "max_uses": "3", "expires": "2030-12-31"})
    )
    assert banner(made, "notice") == "Coupon HALF added."
    assert "<code>HALF</code>" in made.text and "0 / 3" in made.text and "2030-12-31" in made.text

    disabled = followed(boss, boss.post("/admin/coupons/disable", code="HALF"))
    assert banner(disabled, "notice") == "Coupon HALF disabled."
    (coupon,) = panel.run(coupons.list_coupons)
    assert coupon.disabled and coupon.max_uses == 3 and coupon.value == parse_amount("50")


def test_the_operator_sets_the_affiliate_terms(
    site: tuple[Panel, LiveServer], log_in: Callable[[str], Session]
) -> None:
    boss = log_in("boss")
    panel, _ = site
    page = boss.get("/admin/affiliates")
    assert field(page, "percent") == "0.00" and field(page, "minimum") == "10.00"  # off until set

    refused = boss.post("/admin/affiliates", percent="120", minimum="5")
    assert refused.status_code == 400 and banner(refused, "error") == "The affiliate percent must be between 0 and 100"
    assert field(refused, "percent") == "120" and field(refused, "minimum") == "5"

    saved = followed(boss, boss.post("/admin/affiliates", percent="7.5", minimum="2.5"))
    assert banner(saved, "notice") == "Affiliate terms saved."
    assert panel.run(affiliates.terms) == affiliates.Terms(parse_amount("7.5"), parse_amount("2.5"))

    unknown = boss.post("/admin/affiliates/referrer", username="nobody", referrer_percent="9")
    assert unknown.status_code == 400 and banner(unknown, "error") == "no user named 'nobody'"
    assert (
        followed(boss, boss.post("/admin/affiliates/referrer", username="alice", referrer_percent="12")).status_code
        == 200
    )


def test_a_referral_link_ties_the_new_customer_to_the_referrer(
    site: tuple[Panel, LiveServer], log_in: Callable[[str], Session]
) -> None:
    alice = log_in("alice")
    panel, server = site
    link = re.search(r'id="referral-link" value="([^"]+)"', alice.get("/affiliates").text)
    assert link is not None
    url = html.unescape(link.group(1))
    assert url.startswith(f"{server.base_url}/signup?ref=")
    assert alice.get("/affiliates").text.count(url) == 1  # the same code on every visit

    def sign_up(path: str, username: str, again: str = PASSWORD) -> httpx.Response:
        with httpx.Client(base_url=server.base_url, timeout=30) as newcomer:
            page = newcomer.get(path)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            ref = re.search(r'name="ref" value="([^"]*)"', page.text)
            assert token is not None and ref is not None, page.text
            fields = {"csrf_token": token.group(1), "ref": ref.group(1), "username": username}
            return newcomer.post("/signup", data={**fields, "password": PASSWORD, "password_again": again})

    path = url.removeprefix(server.base_url)
    mismatch = sign_up(path, "newbie", again="other one")
    assert mismatch.status_code == 400 and f'name="ref" value="{path.split("=")[1]}"' in mismatch.text  # kept
    assert sign_up(path, "newbie").status_code == 303
    assert sign_up("/signup?ref=doesnotexist", "stranger").status_code == 303  # a stale link never stops a signup

    assert re.search(r'id="referrals">1<', alice.get("/affiliates").text)
    (referral,) = panel.run(affiliates.overview).referrals
    assert (referral.username, referral.referrer) == ("newbie", "alice")


def test_a_payout_with_nothing_pending_is_refused_on_the_page(log_in: Callable[[str], Session]) -> None:
    alice = log_in("alice")
    refused = alice.post("/affiliates/payout")
    assert refused.status_code == 400
    assert banner(refused, "error") == "There is no commission to pay out"
    assert re.search(r'id="pending">0.00 USD<', refused.text)


def test_a_customer_redeems_coupons_on_the_funds_page(
    site: tuple[Panel, LiveServer], log_in: Callable[[str], Session]
) -> None:
    alice = log_in("alice")
    panel, _ = site
    panel.run(lambda db: coupons.create_coupon(db, "GIFT", CouponKind.AMOUNT, parse_amount("2.5")))
    panel.run(lambda db: coupons.create_coupon(db, "TENPC", CouponKind.PERCENT, parse_amount("10")))

    unknown = alice.post("/funds/coupon", coupon="  <b>nope</b> ")
    assert unknown.status_code == 400 and banner(unknown, "error") == "This coupon code is not valid"
    assert field(unknown, "coupon") == "  <b>nope</b> "  # what was typed, escaped
    assert "<b>nope" not in unknown.text

    credited = followed(alice, alice.post("/funds/coupon", coupon="gift"))
    assert banner(credited, "notice") == "Coupon GIFT: 2.50 added to your balance."
    assert re.search(r'id="balance">2.50 USD<', credited.text)
    assert "<td>Coupon</td>" in credited.text and "coupon GIFT" in credited.text

    again = alice.post("/funds/coupon", coupon="GIFT")
    assert banner(again, "error") == "You have already used this coupon" and field(again, "coupon") == "GIFT"

    waiting = followed(alice, alice.post("/funds/coupon", coupon="TenPc"))
    assert banner(waiting, "notice") == "Coupon TENPC accepted: 10.00 % of your next deposit will be added."
    assert "Coupon TENPC: 10.00 % of your next deposit will be added to your balance." in waiting.text
    assert alice.post("/funds/coupon", csrf=False, coupon="GIFT").status_code == 403
    assert panel.ledger_ok()


def test_a_referrer_sees_the_commission_and_pays_it_out(
    site: tuple[Panel, LiveServer], log_in: Callable[[str], Session]
) -> None:
    panel, _ = site
    alice = log_in("alice")
    panel.run(lambda db: affiliates.set_terms(db, parse_amount("10"), parse_amount("2")))
    code = re.search(r"signup\?ref=([a-z0-9]+)", alice.get("/affiliates").text)
    assert code is not None
    panel.run(lambda db: accounts.create_customer(db, "kid", referral_code=code.group(1)))
    bank(panel)
    deposit(panel, "kid", "19.99999")  # 10 % → 1.999999 → 1.99999: below the minimum
    page = alice.get("/affiliates")
    assert re.search(r'id="pending">1.99999 USD<', page.text) and "Minimum payout: 2.00 USD" in page.text
    assert re.search(r"<button[^>]*disabled>Move 1.99999 USD to my balance", page.text)
    refused = alice.post("/affiliates/payout")
    assert banner(refused, "error") == "The minimum payout is 2.00: 1.99999 is pending"

    deposit(panel, "kid", "0.0001")  # → 0.00001
    paid = followed(alice, alice.post("/affiliates/payout"))
    assert banner(paid, "notice") == "2.00 moved to your balance."
    assert re.search(r'id="pending">0.00 USD<', paid.text) and re.search(r'id="paid">2.00 USD<', paid.text)
    assert panel.balance("alice") == "2.00"
    assert "<td>Affiliate payout</td>" in alice.get("/funds").text
    assert panel.ledger_ok()


def test_customers_get_404_on_the_operators_coupon_and_affiliate_pages(
    site: tuple[Panel, LiveServer], log_in: Callable[[str], Session]
) -> None:
    panel, _ = site
    alice = log_in("alice")
    for path in ("/admin/coupons", "/admin/affiliates"):
        assert alice.get(path).status_code == 404
    assert alice.post("/admin/coupons", code="FREE", kind="amount", value="100").status_code == 404
    assert alice.post("/admin/affiliates", percent="100", minimum="0.00001").status_code == 404
    assert alice.post("/admin/affiliates/referrer", username="alice", referrer_percent="100").status_code == 404
    assert panel.run(coupons.list_coupons) == []
    assert panel.run(affiliates.terms) == affiliates.Terms(affiliates.DEFAULT_PERCENT, affiliates.DEFAULT_MINIMUM)
