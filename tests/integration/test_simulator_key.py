"""The provider simulator's operator controls (``/_sim/...``) answer only its key, and the demo's
simulator has a key of its own, made for each demo panel and kept in its provider record."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from smmpanel.usecases.demo import demo_simulator_key
from tests.support.panel import Panel
from tests.support.served import served_panel
from tests.support.simulator import live_simulator

FORBIDDEN = {"error": "Invalid API key"}


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
def test_the_controls_refuse_a_missing_or_wrong_key(key: str | None) -> None:
    with live_simulator(api_key="the-right-key") as simulator:
        order = simulator.call("add", service=1, link="https://x.test/p", quantity=100)["order"]
        sent = {} if key is None else {"key": key}
        stats = simulator.http.get("/_sim/stats", params=sent)
        force = simulator.http.post(f"/_sim/orders/{order}", data={**sent, "status": "Canceled"})
        assert (stats.status_code, stats.json()) == (403, FORBIDDEN)
        assert (force.status_code, force.json()) == (403, FORBIDDEN)
        assert simulator.call("status", order=order)["status"] != "Canceled"
        assert simulator.force(order, status="Canceled").status_code == 200  # with its key
        assert simulator.call("status", order=order)["status"] == "Canceled"
        assert simulator.stats()["add_calls"] == 1


def demo_key(database_url: str) -> str:
    """The key in the demo's provider record."""
    return Panel(database_url).run(demo_simulator_key)


def test_each_demo_has_its_own_simulator_key_and_keeps_it(
    database_url: str, second_database_url: str, tmp_path: Path
) -> None:
    with served_panel(database_url, tmp_path / "one", "--demo") as panel:
        stats = f"{panel.base_url}/simulator/_sim/stats"
        assert httpx.get(stats, timeout=10).status_code == 403
        key = demo_key(database_url)
        assert key != "demo-simulator-key" and len(key) >= 24
        assert httpx.get(stats, params={"key": key}, timeout=10).status_code == 200
    with served_panel(database_url, tmp_path / "again", "--demo") as panel:  # restarted: the same key
        answer = httpx.get(f"{panel.base_url}/simulator/_sim/stats", params={"key": key}, timeout=10)
        assert answer.status_code == 200
    with served_panel(second_database_url, tmp_path / "two", "--demo"):
        assert demo_key(second_database_url) != key
