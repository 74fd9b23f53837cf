"""The dashboard's catalog upkeep: a provider's billing and sync settings, "sync now", its change
list, and the customers' Updates page, over HTTP against the provider simulator."""

from __future__ import annotations

import re

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, catalog, catalog_sync
from smmpanel.usecases.audit import Audit
from tests.integration.test_web_admin import (  # noqa: F401 (fixtures)
    PASSWORD,
    Session,
    banner,
    boss,
    followed,
    simulator,
    site,
)
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.simulator import LiveSimulator

OPERATOR = Audit("operator")


def test_billing_sync_now_the_change_list_and_the_updates_page(
    site: tuple[Panel, LiveServer],  # noqa: F811
    boss: Session,  # noqa: F811
    simulator: LiveSimulator,  # noqa: F811
) -> None:
    panel, server = site
    followed(boss, boss.post("/admin/providers", name="sim", url=simulator.api_url, key="simulator-key"))
    followed(boss, boss.post("/admin/services/import", provider="sim", markup="0", fixed="0", only="1"))
    [service] = panel.run(lambda db: catalog.list_services(db, enabled_only=False))
    assert service.rate == parse_amount("0.90")
    provider_id = int(re.findall(r'href="/admin/providers/(\d+)"', boss.get("/admin/providers").text)[0])
    page = f"/admin/providers/{provider_id}/catalog"
    assert "<td>new</td>" in boss.get(page).text  # the import is on the change list as a new service

    refused = boss.post(page, currency="EUR", rate="1,08", sync_minutes="60")
    assert refused.status_code == 400 and "invalid exchange rate" in banner(refused, "error")
    assert 'value="1,08"' in refused.text  # what was typed is shown again
    followed(boss, boss.post(page, currency="EUR", rate="1.08", sync_minutes="60"))
    billing = panel.run(lambda db: catalog_sync.billing_of(db, provider_id))
    assert (billing.currency, billing.exchange_rate, billing.sync_minutes) == ("EUR", "1.08", 60)

    synced = followed(boss, boss.post(f"/admin/providers/{provider_id}/sync"))
    # 0.90 EUR costs 0.972 now: the rate is raised to it (no markup was set), never left below it.
    assert "Synced: 1 changes." in banner(synced, "notice")
    assert "0.972" in synced.text
    assert panel.run(lambda db: catalog.service_by_id(db, service.id)).rate == parse_amount("0.972")

    panel.run(lambda db: accounts.set_password(db, "alice", PASSWORD))
    alice = Session(server.base_url, "alice")
    try:
        assert alice.get("/updates").status_code == 404  # off until the operator turns it on
        switched = followed(boss, boss.post(f"/admin/providers/{provider_id}/updates-page", on="1"))
        assert "Updates page is on" in banner(switched, "notice")
        updates = alice.get("/updates")
        assert updates.status_code == 200 and "Rate 0.90 → 0.972" in updates.text
        panel.run(lambda db: catalog.hide_category(db, service.category, True))
        assert "Rate 0.90 → 0.972" not in alice.get("/updates").text  # a hidden category's services are not told
    finally:
        alice.close()


def test_the_service_page_shows_the_operators_fields_sets_the_loss_rule_and_unlinks(
    site: tuple[Panel, LiveServer],  # noqa: F811
    boss: Session,  # noqa: F811
    simulator: LiveSimulator,  # noqa: F811
) -> None:
    panel, _ = site
    followed(boss, boss.post("/admin/providers", name="sim", url=simulator.api_url, key="simulator-key"))
    followed(boss, boss.post("/admin/services/import", provider="sim", markup="0", fixed="0", only="1"))
    assert '<strong id="operator-fields">none</strong>' in boss.get("/admin/services/1").text
    panel.run(
        lambda db: catalog.update_service(
            db, 1, catalog.ServiceChanges(description="Mine", price_locked=True), audit=OPERATOR
        )
    )
    page = boss.get("/admin/services/1").text
    assert '<strong id="operator-fields">description, rate (price-locked)</strong>' in page

    saved = followed(boss, boss.post("/admin/services/1/loss-rule", rule="disable"))
    assert "Loss rule: disable." in banner(saved, "notice")
    assert panel.run(lambda db: catalog_sync.upkeep_of(db, 1)).loss_rule.value == "disable"

    provider_id = int(re.findall(r'name="provider_id" value="(\d+)"', page)[0])
    unlinked = followed(boss, boss.post("/admin/services/1/unlink", provider_id=str(provider_id)))
    assert "Fulfilled by hand: no provider is linked." in unlinked.text
    assert boss.post("/admin/services/1/unlink", provider_id=str(provider_id)).status_code == 404


def test_categories_are_renamed_and_services_moved_in_bulk(
    site: tuple[Panel, LiveServer],  # noqa: F811
    boss: Session,  # noqa: F811
) -> None:
    panel, _ = site
    first = panel.service(name="Followers", category="Instagram", rate="0.90")
    twin = panel.service(name="Followers", category="Instagram", rate="1.10")
    other = panel.service(name="Views", category="TikTok", rate="0.05")
    listing = boss.get("/admin/services").text
    assert f"(#{first})" in listing and f"(#{twin})" in listing and f"(#{other})" not in listing  # twins told apart

    renamed = followed(boss, boss.post("/admin/categories/rename", name="Instagram", new_name="IG"))
    assert "Category Instagram is now IG." in banner(renamed, "notice")
    refused = boss.post("/admin/categories/rename", name="IG", new_name="TikTok")
    assert refused.status_code == 400 and "already exists" in banner(refused, "error")

    moved = boss.post("/admin/services/bulk", action="move", category="Video", ids=[str(twin), str(other)], q="")
    assert moved.status_code == 303 and moved.headers["location"] == f"/admin/services#service-{twin}"
    categories = {s.id: s.category for s in panel.run(lambda db: catalog.list_services(db, enabled_only=False))}
    assert categories == {first: "IG", twin: "Video", other: "Video"}
    nothing = boss.post("/admin/services/bulk", action="disable", q="Views")
    assert nothing.status_code == 400 and "select at least one service" in banner(nothing, "error")
    assert 'value="Views"' in nothing.text  # the search typed is kept
    found = boss.get("/admin/services", q="views").text
    assert f'id="service-{other}"' in found and f'id="service-{first}"' not in found
