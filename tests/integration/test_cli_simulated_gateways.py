"""``smmpanel gateway add paypal|perfectmoney|cryptomus`` and ``payment link`` against the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smmpanel.simulators.gateways import KEY_HEADER
from tests.support.cli import Background, Cli
from tests.support.engine import free_port, wait_for
from tests.support.gateway_simulator import (
    CRYPTOMUS_MERCHANT,
    PAYPAL_APP,
    PM_ACCOUNT,
    LiveGatewaySimulator,
    live_gateway_simulator,
)
from tests.support.panel import Panel

PUBLIC = "https://panel.example"


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Iterator[Cli]:
    panel = Panel(database_url)
    panel.customer("alice", "0")
    panel.close()
    yield Cli(database_url, tmp_path, public_url=PUBLIC)


@pytest.fixture
def sim() -> Iterator[LiveGatewaySimulator]:
    with live_gateway_simulator() as simulator:
        yield simulator


def test_paypal_is_added_with_its_options_and_a_link_is_its_approve_page(cli: Cli, sim: LiveGatewaySimulator) -> None:
    added = cli.json(
        "gateway", "add", "paypal", "--name", "pp", "--client-id", PAYPAL_APP[0], "--secret", PAYPAL_APP[1],
        "--webhook-id", "WH-1", "--api-base", sim.paypal_base, "--min", "1",
    )  # fmt: skip
    assert (added["kind"], added["webhook_path"], added["options"]["secret"]) == (
        "paypal",
        "/payments/webhook/pp",
        "…0001",
    )
    link = cli.json("payment", "link", "alice", "19.99", "--gateway", "pp")
    assert link["url"] == f"{sim.paypal_base}/checkoutnow?token={link['reference']}"
    order = sim.paypal("GET", f"/v2/checkout/orders/{link['reference']}", sim.paypal_token()).json()
    assert order["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "19.99"}
    missing = cli.fails("gateway", "add", "paypal", "--name", "x", "--client-id", "c")
    assert "the following arguments are required: --secret, --webhook-id" in missing
    wrong = cli.json("gateway", "add", "paypal", "--name", "bad", "--client-id", "c", "--secret", "s",
                     "--webhook-id", "w", "--api-base", sim.paypal_base)  # fmt: skip
    assert wrong["name"] == "bad"
    assert "not answering" in cli.fails("payment", "link", "alice", "5", "--gateway", "bad")


def test_perfect_money_link_is_the_panels_page_with_the_sci_form(cli: Cli, sim: LiveGatewaySimulator) -> None:
    added = cli.json(
        "gateway", "add", "perfectmoney", "--name", "pm", "--payee-account", PM_ACCOUNT[0],
        "--alternate-passphrase", PM_ACCOUNT[1], "--api-base", sim.perfectmoney_base,
    )  # fmt: skip
    assert added["options"]["alternate_passphrase"] == "…se-1"
    link = cli.json("payment", "link", "alice", "12.5", "--gateway", "pm")
    assert (link["url"], link["reference"]) == (f"{PUBLIC}/funds/payments/{link['payment']}", str(link["payment"]))


def test_cryptomus_link_is_the_invoice_page(cli: Cli, sim: LiveGatewaySimulator) -> None:
    cli.json(
        "gateway", "add", "cryptomus", "--name", "crypto", "--merchant-id", CRYPTOMUS_MERCHANT[0],
        "--api-key", CRYPTOMUS_MERCHANT[1], "--api-base", sim.cryptomus_base,
    )  # fmt: skip
    link = cli.json("payment", "link", "alice", "7", "--gateway", "crypto")
    assert link["url"] == f"{sim.cryptomus_base}/pay/{link['reference']}"
    assert "7.005 cannot be paid this way" in cli.fails("payment", "link", "alice", "7.005", "--gateway", "crypto")


def test_the_simulator_runs_on_its_own_with_the_credentials_given(tmp_path: Path) -> None:
    background = Background("sqlite:///unused.db", tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        background.start(
            "simulate-gateways", "--port", str(port), "--control-key", "standalone-key",
            "--paypal", "cli-client:cli-secret", "--cryptomus", f"{CRYPTOMUS_MERCHANT[0]}:{CRYPTOMUS_MERCHANT[1]}",
        )  # fmt: skip

        def token() -> httpx.Response | None:
            try:
                return httpx.post(
                    f"{base}/paypal/v1/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=("cli-client", "cli-secret"),
                )
            except httpx.TransportError:
                return None

        assert wait_for(token, "the standalone simulator").status_code == 200
        assert httpx.get(f"{base}/_sim/deliveries", headers={KEY_HEADER: "standalone-key"}).json() == {"deliveries": []}
    finally:
        background.stop_all()
    cli = Cli("sqlite:///unused.db", tmp_path)
    assert "at least 8 characters" in cli.fails("simulate-gateways", "--control-key", "short")
    assert "write NAME:SECRET" in cli("simulate-gateways", "--control-key", "long-enough", "--paypal", "x").stderr
