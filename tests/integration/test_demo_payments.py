"""The demo's payment methods: created once, the card gateway re-pointed at each start's localstripe."""

from __future__ import annotations

from smmpanel.usecases.demo_payments import load_demo_gateways
from smmpanel.usecases.gateways import list_gateways
from tests.support.panel import Panel


def test_demo_gateways_are_created_once_and_follow_localstripe(database_url: str) -> None:
    panel = Panel(database_url)
    try:
        panel.run(lambda db: load_demo_gateways(db, stripe_api="http://127.0.0.1:1", stripe_js="http://127.0.0.1:1/js"))
        panel.run(lambda db: load_demo_gateways(db, stripe_api="http://127.0.0.1:2", stripe_js="http://127.0.0.1:2/js"))
        gateways = panel.run(list_gateways)
        assert [(g.name, g.kind, g.enabled) for g in gateways] == [("card", "stripe", True), ("bank", "manual", True)]
        assert (gateways[0].config["api_base"], gateways[0].config["js_url"]) == (
            "http://127.0.0.1:2",
            "http://127.0.0.1:2/js",
        )
        # Without localstripe (not installed) the demo still has its bank transfer.
        panel.run(lambda db: load_demo_gateways(db, stripe_api=None, stripe_js=None))
        assert len(panel.run(list_gateways)) == 2
    finally:
        panel.close()
