"""The demo's simulated gateways: made-up credentials the simulator knows and the demo's gateways use.

``make run`` serves the gateway simulator inside the demo panel (``MOUNT``) and adds a PayPal, a
Perfect Money and a Cryptomus gateway pointed at it (``smmpanel.usecases.demo_gateways``), so
that a newcomer can pay through each in the browser and watch the callbacks credit the balance.
"""

from __future__ import annotations

from smmpanel.simulators.gateways import GatewaySimulatorSettings

MOUNT = "/simulator/gateways"
PAYPAL_APP = ("demo-paypal-client-id", "demo-paypal-secret")
PAYPAL_WEBHOOK = "DEMOPAYPALWEBHOOK"
PERFECTMONEY_ACCOUNT = ("U1000000", "demo-alternate-passphrase")
CRYPTOMUS_MERCHANT = ("00000000-0000-4000-a000-00000000d3m0", "demo-cryptomus-payment-key")


def demo_simulator(paypal_webhook_url: str, control_key: str) -> GatewaySimulatorSettings:
    """The simulator the demo panel serves; its PayPal webhook already points at the panel."""
    return GatewaySimulatorSettings(
        control_key=control_key,
        paypal_apps=dict([PAYPAL_APP]),
        paypal_webhooks={PAYPAL_WEBHOOK: (PAYPAL_APP[0], paypal_webhook_url)},
        perfectmoney_accounts=dict([PERFECTMONEY_ACCOUNT]),
        cryptomus_merchants=dict([CRYPTOMUS_MERCHANT]),
    )
