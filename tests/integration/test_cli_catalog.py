"""The catalog upkeep from the command line: billing, preview, import with rounding, sync, loss rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import Cli
from tests.support.simulator import LiveSimulator, live_simulator


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(database_url, tmp_path)


@pytest.fixture
def simulator() -> Iterator[LiveSimulator]:
    with live_simulator(seconds_per_step=0, seed=3) as running:
        yield running


def test_preview_import_and_sync_from_the_cli(cli: Cli, simulator: LiveSimulator) -> None:
    cli.json("provider", "add", "sim", "--url", simulator.api_url, "--key", "simulator-key")
    assert cli.json("provider", "update", "sim", "--currency", "eur", "--rate", "1.10", "--sync-every", "30") == {
        "provider": "sim",
        "currency": "EUR",
        "rate": "1.1",
        "sync_minutes": 30,
    }
    preview = cli.json(
        "provider", "import", "sim", "--preview", "--markup", "10", "--rounding", "2", "--in-category", "Twitter Polls"
    )
    # 3.00 EUR × 1.10 = 3.30; × 1.10 = 3.63, already in cents.
    assert preview["services"] == [
        {
            "id": 7,
            "name": "Twitter Poll Votes",
            "category": "Twitter Polls",
            "type": "Poll",
            "cost": "3.30",
            "rate": "3.63",
            "min": 50,
            "max": 20000,
            "refill": False,
            "cancel": False,
            "linked_to": None,
        }
    ]
    assert "Instagram Mentions" in preview["categories"]
    assert cli.json("service", "list")["services"] == []  # a preview writes nothing

    assert cli.json("provider", "import", "sim", "--markup", "10", "--rounding", "x9", "--services", "7") == {
        "created": [1],
        "updated": [],
        "disabled": [],
    }
    [service] = cli.json("service", "list")["services"]
    assert service["rate"] == "3.69"  # 3.63 → a price ending in 9
    assert cli.json("service", "loss-rule", "1", "flag") == {"service": 1, "loss_rule": "flag"}
    # The operator's rate came from the old exchange rate: after a cheaper one, the markup is kept.
    cli.json("provider", "update", "sim", "--rate", "1.00")
    assert cli.json("provider", "sync", "sim")["changes"] == []  # their rate is the same: nothing moved
    refused = cli("provider", "update", "sim", "--rate", "1,00")
    assert refused.returncode == 1 and "invalid exchange rate" in refused.stderr
    assert cli("provider", "sync", "nope").returncode == 1
