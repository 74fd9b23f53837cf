"""Display currencies over real HTTP and the real CLI: the operator's list and its checks, a customer's and
a visitor's choice, amounts converted for display to the last digit, and money that stays exactly as it was."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
import pytest

from smmpanel.usecases import accounts, currencies
from tests.integration.test_web_admin import (  # noqa: F401 (fixtures)
    PASSWORD,
    Session,
    audit_entries,
    banner,
    boss,
    followed,
    site,
)
from tests.support.cli import Cli
from tests.support.panel import Panel
from tests.support.server import LiveServer

LINK = "https://x.test/post"


def shown_balance(page: httpx.Response) -> str | None:
    found = re.search(r'id="balance-shown"[^>]*>([^<]*)<', page.text)
    return html.unescape(found.group(1)) if found else None


def picked(page: httpx.Response) -> str:
    found = re.search(r'<option value="([A-Z]{3})"[^>]*selected', page.text)
    assert found is not None, page.text[:2000]
    return found.group(1)


def test_the_operator_adds_checks_changes_and_removes_currencies(
    site: tuple[Panel, LiveServer],  # noqa: F811
    boss: Session,  # noqa: F811
) -> None:
    panel, _ = site
    added = followed(boss, boss.post("/admin/currencies", code="eur", symbol="€", decimals="2", rate="0.920"))
    assert banner(added, "notice") == "Currency EUR added."
    assert 'value="0.92"' in added.text  # kept exactly, written without trailing zeros

    refusals = {
        ("USD", "$", "2", "1"): "USD is the panel's own currency: it is always offered",
        ("EUR", "€", "2", "0.9"): "currency EUR already exists: update it instead",
        ("GBP", "£", "2", "0"): "rate must be above zero",
        (
            "GBP",
            "£",
            "2",
            "-1",
        ): "rate must be a plain number with at most 12 digits before and 12 after the point, e.g. 0.92",
        (
            "GBP",
            "£",
            "2",
            "1e3",
        ): "rate must be a plain number with at most 12 digits before and 12 after the point, e.g. 0.92",
        (
            "GBP",
            "£",
            "2",
            "0.1234567890123",
        ): "rate must be a plain number with at most 12 digits before and 12 after the point, e.g. 0.92",
        ("GBP", "£", "9", "0.8"): "decimals must be between 0 and 8",
        ("GBP", "£", "two", "0.8"): "Decimals: write a whole number",
        ("GBPX", "£", "2", "0.8"): "code must be three capital letters (ISO 4217), e.g. EUR",
        ("GBP", "£££££££££", "2", "0.8"): "symbol must be at most 8 printable characters",
    }
    for (code, symbol, decimals, rate), message in refusals.items():
        page = boss.post("/admin/currencies", code=code, symbol=symbol, decimals=decimals, rate=rate)
        assert page.status_code == 400 and banner(page, "error") == message, (code, rate)
        assert f'name="rate" value="{html.escape(rate)}"' in page.text  # what was typed comes back
    assert [c.code for c in panel.run(currencies.list_currencies)] == ["EUR"]

    followed(boss, boss.post("/admin/currencies", code="JPY", symbol="¥", decimals="0", rate="151.37"))
    saved = followed(boss, boss.post("/admin/currencies/update", code="EUR", symbol="€", decimals="2", rate="0.9315"))
    assert banner(saved, "notice") == "Currency EUR saved."
    bad = boss.post("/admin/currencies/update", code="EUR", symbol="€", decimals="2", rate="zero")
    assert bad.status_code == 400 and banner(bad, "error").startswith("rate must be a plain number")
    assert 'name="rate" value="zero"' in bad.text  # the refused change comes back as typed
    made = followed(boss, boss.post("/admin/currencies/default", code="JPY"))
    assert banner(made, "notice") == "Prices are now shown in JPY unless a customer picks another."
    assert [(c.code, c.is_default) for c in panel.run(currencies.list_currencies)] == [("EUR", False), ("JPY", True)]
    gone = followed(boss, boss.post("/admin/currencies/remove", code="JPY"))
    assert banner(gone, "notice") == "Currency JPY removed."
    missing = boss.post("/admin/currencies/remove", code="JPY")
    assert missing.status_code == 400 and banner(missing, "error") == "no display currency 'JPY'"

    logged = [(e.actor, e.action, e.target, e.before, e.after) for e in audit_entries(panel)]
    assert logged[::-1] == [
        ("boss", "currency.add", "currency EUR", None, {"symbol": "€", "decimals": 2, "rate": "0.92"}),
        ("boss", "currency.add", "currency JPY", None, {"symbol": "¥", "decimals": 0, "rate": "151.37"}),
        (
            "boss",
            "currency.update",
            "currency EUR",
            {"symbol": "€", "decimals": 2, "rate": "0.92"},
            {"symbol": "€", "decimals": 2, "rate": "0.9315"},
        ),
        ("boss", "currency.default", "display currency", {"code": "USD"}, {"code": "JPY"}),
        (
            "boss",
            "currency.remove",
            "currency JPY",
            {"symbol": "¥", "decimals": 0, "rate": "151.37", "default": True},
            None,
        ),
    ]


def test_a_customer_reads_converted_amounts_while_money_and_the_api_stay_exact(
    site: tuple[Panel, LiveServer],  # noqa: F811
    boss: Session,  # noqa: F811
) -> None:
    panel, server = site
    key = panel.customer("carol", "10.12345")
    service = panel.service(name="Likes", category="Instagram", rate="1.23456")
    panel.run(lambda db: accounts.set_password(db, "carol", PASSWORD))
    followed(boss, boss.post("/admin/currencies", code="JPY", symbol="¥", decimals="0", rate="151.37"))
    followed(boss, boss.post("/admin/currencies", code="BTC", symbol="", decimals="8", rate="0.000010543217"))
    balance_before = panel.call(key, "balance")
    assert balance_before == {"balance": "10.12345", "currency": "USD"}

    carol = Session(server.base_url, "carol")
    try:
        page = carol.get("/orders/new")
        assert picked(page) == "USD" and shown_balance(page) is None  # the panel's own: nothing converted
        chose = carol.post("/currency", currency="JPY", next="/orders/new")
        assert chose.status_code == 303 and chose.headers["location"] == "/orders/new"
        forged = carol.post("/currency", csrf=False, currency="BTC", next="/orders/new")
        assert forged.status_code == 403  # another site cannot change the account's choice
        page = carol.get("/orders/new")
        assert picked(page) == "JPY"
        assert shown_balance(page) == "≈ ¥1532"  # 10.12345 × 151.37 = 1532.386... half-up to 0 decimals
        # The exact rate in the panel's currency beside the converted one: 1.23456 × 151.37 = 186.87...
        assert f"#{service} · Likes · 1.23456 USD (≈ ¥187)" in html.unescape(page.text)
        carol.post("/currency", currency="BTC", next="/orders/new")
        page = carol.get("/orders/new")
        assert shown_balance(page) == "≈ 0.00010673 BTC"  # 10.12345 × 0.000010543217 = 0.000106733... → 8 decimals
        refused = carol.post("/currency", currency="XYZ", next="/orders/new")  # not offered: nothing kept
        assert refused.status_code == 303 and picked(carol.get("/orders/new")) == "BTC"

        placed = carol.post("/orders/new", service=str(service), link=LINK, quantity="1000")
        assert placed.status_code == 303
        notice = banner(carol.get(placed.headers["location"]), "notice")
        assert "Charged 1.23456 USD" in notice and "Your balance is now 8.88889 USD" in notice
    finally:
        carol.close()
    # The ledger, the charge and every API answer are the panel's currency, unchanged.
    assert panel.call(key, "balance") == {"balance": "8.88889", "currency": "USD"}
    assert [s["rate"] for s in panel.call(key, "services") if int(s["service"]) == service] == ["1.23456"]
    assert panel.ledger_ok()
    stored = next(u for u in panel.run(accounts.list_customers) if u.username == "carol")
    assert stored.display_currency == "BTC"


def test_a_visitor_s_choice_is_a_cookie(site: tuple[Panel, LiveServer], boss: Session) -> None:  # noqa: F811
    server = site[1]
    followed(boss, boss.post("/admin/currencies", code="EUR", symbol="€", decimals="2", rate="0.92"))
    with httpx.Client(base_url=server.base_url, timeout=30) as visitor:
        assert picked(visitor.get("/login")) == "USD"
        chose = visitor.get("/currency", params={"currency": "EUR", "next": "/login"})
        assert chose.status_code == 303 and chose.headers["location"] == "/login"
        assert "smmpanel_currency=EUR" in chose.headers["set-cookie"] and "HttpOnly" in chose.headers["set-cookie"]
        assert picked(visitor.get("/login")) == "EUR"
        away = visitor.get("/currency", params={"currency": "EUR", "next": "https://evil.test/"})
        assert away.headers["location"] == "/"  # only the panel's own pages
    followed(boss, boss.post("/admin/currencies/remove", code="EUR"))
    with httpx.Client(base_url=server.base_url, timeout=30, cookies={"smmpanel_currency": "EUR"}) as visitor:
        assert "currency-select" not in visitor.get("/login").text  # one currency left: no picker


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(database_url, tmp_path)


def test_currencies_from_the_cli(cli: Cli) -> None:
    assert cli.json("currency", "add", "eur", "--rate", "0.920", "--symbol", "€") == {
        "code": "EUR",
        "symbol": "€",
        "decimals": 2,
        "rate": "0.92",
        "default": False,
    }
    cli.json("currency", "add", "JPY", "--rate", "151.37", "--symbol", "¥", "--decimals", "0")
    assert cli.json("currency", "update", "EUR", "--rate", "0.9315")["rate"] == "0.9315"
    assert cli.json("currency", "default", "EUR") == {"default": "EUR"}
    assert cli.json("currency", "list") == {
        "panel_currency": "USD",
        "default": "EUR",
        "currencies": [
            {"code": "EUR", "symbol": "€", "decimals": 2, "rate": "0.9315", "default": True},
            {"code": "JPY", "symbol": "¥", "decimals": 0, "rate": "151.37", "default": False},
        ],
    }
    assert cli.json("currency", "remove", "JPY") == {"code": "JPY", "removed": True}
    assert cli.fails("currency", "add", "GBP", "--rate", "0") == "smmpanel: error: rate must be above zero\n"
    assert cli.fails("currency", "update", "GBP", "--rate", "1") == "smmpanel: error: no display currency 'GBP'\n"
    assert cli.fails("currency", "default", "GBP") == "smmpanel: error: no display currency 'GBP'\n"
    assert cli.json("currency", "default", "usd") == {"default": "USD"}
    assert "shown by default in USD" in cli.text("currency", "list")
