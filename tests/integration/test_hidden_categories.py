"""Hiding a category: its services leave the customers' catalog and cannot be ordered, orders already
placed keep working, the operator still sees them; from the dashboard and from the command line."""

from __future__ import annotations

from pathlib import Path

from smmpanel.usecases import accounts, catalog
from tests.integration.test_web_admin import (  # noqa: F401 (fixtures)
    PASSWORD,
    Session,
    banner,
    boss,
    followed,
    site,
)
from tests.support.cli import Cli
from tests.support.panel import Panel
from tests.support.server import LiveServer

LINK = "https://x.test/post"


def listed(panel: Panel, key: str) -> list[int]:
    return [int(item["service"]) for item in panel.call(key, "services")]


def test_a_hidden_category_is_not_offered_nor_orderable_and_its_orders_keep_working(
    site: tuple[Panel, LiveServer],  # noqa: F811
    boss: Session,  # noqa: F811
) -> None:
    panel, server = site
    key = panel.customer("carol", "10")
    kept = panel.service(name="Instagram Likes", category="Instagram", rate="0.50")
    hidden = panel.service(name="YouTube Views", category="YouTube", rate="1.00")
    placed = int(panel.call(key, "add", service=hidden, link=LINK, quantity=100)["order"])
    assert panel.balance("carol") == "9.90"  # 100 × 1.00 per 1000 = 0.10

    page = followed(boss, boss.post("/admin/categories/hide", name="YouTube", hidden="1"))
    assert banner(page, "notice") == "Category YouTube is hidden."
    assert "YouTube Views" in page.text and '<span class="badge">hidden</span>' in page.text
    assert listed(panel, key) == [kept]  # the serving process sees it at once: its cache was cleared
    assert panel.call(key, "add", service=hidden, link=LINK, quantity=100) == {"error": "Incorrect service ID"}
    assert panel.balance("carol") == "9.90"  # charged nothing
    assert panel.ledger_ok()
    assert panel.call(key, "status", order=placed)["charge"] == "0.10"  # the order already placed still answers

    panel.run(lambda db: accounts.set_password(db, "carol", PASSWORD))
    carol = Session(server.base_url, "carol")
    try:
        new_order = carol.get("/orders/new").text
        assert "Instagram Likes" in new_order and "YouTube Views" not in new_order
    finally:
        carol.close()

    unknown = boss.post("/admin/categories/hide", name="Nope", hidden="1")
    assert unknown.status_code == 400 and banner(unknown, "error") == "no category 'Nope'"

    shown = followed(boss, boss.post("/admin/categories/hide", name="YouTube", hidden="0"))
    assert banner(shown, "notice") == "Category YouTube is shown."
    assert listed(panel, key) == [kept, hidden]
    again = int(panel.call(key, "add", service=hidden, link=LINK, quantity=100)["order"])
    assert again > placed and panel.balance("carol") == "9.80"
    assert panel.ledger_ok()


def test_hiding_and_showing_a_category_from_the_cli(database_url: str, tmp_path: Path) -> None:
    panel = Panel(database_url)
    try:
        service = panel.service(name="YouTube Views", category="YouTube")
        cli = Cli(database_url, tmp_path)
        assert cli.json("service", "category-hide", "YouTube") == {"category": "YouTube", "hidden": True}
        assert panel.run(lambda db: catalog.list_services(db, enabled_only=True)) == []
        [operator_view] = panel.run(lambda db: catalog.list_services(db, enabled_only=False))
        assert (operator_view.id, operator_view.hidden) == (service, True)
        assert "no category 'Nope'" in cli.fails("service", "category-show", "Nope")
        assert cli.json("service", "category-show", "YouTube") == {"category": "YouTube", "hidden": False}
        assert [s.id for s in panel.run(lambda db: catalog.list_services(db, enabled_only=True))] == [service]
    finally:
        panel.close()
