"""The demo's simulated gateways: one set of made-up credentials, on the simulator's side and the panel's.

``make run`` serves the gateway simulator inside the demo panel (``/simulator/gateways``) and
adds a PayPal, a Perfect Money and a Cryptomus gateway pointed at it, so that a newcomer can
pay through each in the browser and watch the callbacks credit the balance.
"""

from __future__ import annotations

from smmpanel.simulators.gateways import GatewaySimulatorSettings
from smmpanel.usecases.demo_gateways import DemoGateway
from smmpanel.usecases.payments import webhook_path

MOUNT = "/simulator/gateways"
PAYPAL_APP = ("demo-paypal-client-id", "demo-paypal-secret")
PAYPAL_WEBHOOK = "DEMOPAYPALWEBHOOK"
PERFECTMONEY_ACCOUNT = ("U1000000", "demo-alternate-passphrase")
CRYPTOMUS_MERCHANT = ("00000000-0000-4000-a000-00000000d3m0", "demo-cryptomus-payment-key")


def demo_simulator(panel_url: str, control_key: str) -> GatewaySimulatorSettings:
    """The simulator the demo panel at ``panel_url`` serves; its PayPal webhook already points back."""
    return GatewaySimulatorSettings(
        control_key=control_key,
        paypal_apps=dict([PAYPAL_APP]),
        paypal_webhooks={PAYPAL_WEBHOOK: (PAYPAL_APP[0], panel_url + webhook_path("paypal"))},
        perfectmoney_accounts=dict([PERFECTMONEY_ACCOUNT]),
        cryptomus_merchants=dict([CRYPTOMUS_MERCHANT]),
    )


def demo_gateways(panel_url: str) -> list[DemoGateway]:
    """The three gateways of the demo panel, each pointed at the simulator it serves."""
    base = panel_url + MOUNT
    return [
        DemoGateway(
            "paypal",
            "paypal",
            "PayPal (simulated)",
            {
                "client_id": PAYPAL_APP[0],
                "secret": PAYPAL_APP[1],
                "webhook_id": PAYPAL_WEBHOOK,
                "api_base": f"{base}/paypal",
            },
        ),
        DemoGateway(
            "perfectmoney",
            "perfectmoney",
            "Perfect Money (simulated)",
            {
                "payee_account": PERFECTMONEY_ACCOUNT[0],
                "alternate_passphrase": PERFECTMONEY_ACCOUNT[1],
                "payee_name": "smmpanel demo",
                "api_base": f"{base}/perfectmoney",
            },
        ),
        DemoGateway(
            "crypto",
            "cryptomus",
            "Crypto: Cryptomus (simulated)",
            {
                "merchant_id": CRYPTOMUS_MERCHANT[0],
                "api_key": CRYPTOMUS_MERCHANT[1],
                "api_base": f"{base}/cryptomus",
            },
        ),
    ]
