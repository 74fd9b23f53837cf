"""The demo's simulator services step aside once a real provider's catalog is imported."""

from __future__ import annotations

from collections.abc import Callable

from smmpanel.providers.simulator import CATALOG
from smmpanel.usecases import catalog, demo, providers
from smmpanel.usecases.catalog import ServiceChanges
from tests.integration.test_engine import add_provider, import_catalog
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.simulator import live_simulator


def names_on_sale(panel: Panel, key: str) -> list[str]:
    return [item["name"] for item in panel.call(key, "services")]


def test_a_real_import_switches_the_demo_services_off_once(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    panel = Panel(database_url, start_server().api_url)
    with live_simulator(seed=1) as demo_sim, live_simulator(seed=2) as real:
        try:
            loaded = panel.run(
                lambda db: demo.load_demo(
                    db, simulator_url=demo_sim.base_url + "/api/v2", simulator_key=demo_sim.settings.api_key
                )
            )
            assert loaded is not None
            key = loaded.customer.api_key
            assert names_on_sale(panel, key) == [upstream.name for upstream in CATALOG]

            # Re-importing the simulator's own catalog is not a real provider's: nothing is hidden.
            assert import_catalog(panel, "simulator", markup="20").demo_hidden == []
            assert len(names_on_sale(panel, key)) == len(CATALOG)

            add_provider(panel, "real", real.base_url + "/api/v2", real.settings.api_key)
            report = import_catalog(panel, "real", markup="10")
            assert report.demo_hidden == loaded.service_ids
            assert report.demo_notice == (
                f"The demo's {len(CATALOG)} simulator services were switched off:"
                " switch any of them on again on Services."
            )
            on_sale = panel.call(key, "services")
            assert [item["service"] for item in on_sale] == report.created  # only the real catalog, once each
            assert sorted(item["name"] for item in on_sale) == sorted(upstream.name for upstream in CATALOG)

            # The operator takes one back; later imports leave it on.
            kept = loaded.service_ids[0]
            panel.run(lambda db: catalog.update_service(db, kept, ServiceChanges(enabled=True)))
            assert import_catalog(panel, "real", markup="10").demo_hidden == []
            assert kept in [item["service"] for item in panel.call(key, "services")]
            assert panel.run(lambda db: providers.provider_by_id(db, 1)).name == "simulator"
        finally:
            panel.close()
