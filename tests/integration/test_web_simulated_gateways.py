"""The operator sets up PayPal, Perfect Money and Cryptomus on the dashboard; the customer sees them on /funds."""

from __future__ import annotations

from collections.abc import Callable

from smmpanel.gateways.base import GatewaySetup
from smmpanel.gateways.registry import adapter_class
from smmpanel.usecases import accounts
from smmpanel.usecases.gateways import gateway_named
from tests.integration.test_web_admin import PASSWORD, Session, banner, followed
from tests.support.panel import Panel
from tests.support.server import LiveServer

GATEWAYS = {
    "paypal": {"client_id": "AeClient1", "secret": "paypal-secret-9876", "webhook_id": "4JH86294D6297924G"},
    "perfectmoney": {"payee_account": "U1234567", "alternate_passphrase": "alt-pass-5432", "payee_name": "Shop"},
    "cryptomus": {"merchant_id": "8b03432e-385b-4670-8d06-064591096795", "api_key": "crypto-key-1234"},
}


def test_the_operator_adds_each_simulated_kind_and_secrets_stay_hidden(
    database_url: str, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    panel.run(lambda db: accounts.create_customer(db, "alice", password=PASSWORD))
    boss = Session(server.base_url, "boss")
    try:
        missing = boss.post("/admin/gateways", kind="paypal", name="pp", client_id="AeClient1")
        assert missing.status_code == 400 and banner(missing, "error") == "paypal gateways need --secret, --webhook-id"
        for kind, options in GATEWAYS.items():
            added = boss.post("/admin/gateways", kind=kind, name=kind, display_name=kind.title(), **options)
            assert f"Register /payments/webhook/{kind}" in banner(followed(boss, added), "notice")
        edit = boss.get("/admin/gateways/paypal").text
        assert "…9876" in edit and "paypal-secret-9876" not in edit and "4JH86294D6297924G" in edit
        assert "alt-pass-5432" not in boss.get("/admin/gateways/perfectmoney").text
        assert "crypto-key-1234" not in boss.get("/admin/gateways/cryptomus").text
    finally:
        boss.close()
    alice = Session(server.base_url, "alice")
    try:
        funds = alice.get("/funds").text
        assert all(f'data-gateway="{kind}"' in funds for kind in GATEWAYS)
    finally:
        alice.close()
    stored = panel.run(lambda db: gateway_named(db, "paypal")).config
    assert stored == {**GATEWAYS["paypal"], "api_base": "", "merchant_id": ""}  # blank: PayPal's own API
    adapter = adapter_class("paypal")(GatewaySetup("paypal", stored, "USD"))
    assert (adapter.option("api_base"), adapter.payee) == ("https://api-m.paypal.com", None)
    panel.close()
