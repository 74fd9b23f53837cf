"""The demo's simulated gateways: added once to a freshly loaded demo panel, re-pointed on every start.

They talk to the gateway simulator the demo panel serves itself (``smmpanel.simulators.demo_gateways``),
whose address changes with the port the panel serves on; like the demo's provider, their
``api_base`` is brought up to date each time, and a gateway the operator removed or renamed is
left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from smmpanel.db.unit_of_work import Database
from smmpanel.money import SCALE
from smmpanel.simulators import demo_gateways as simulated
from smmpanel.usecases.gateways import GatewayChanges, add_gateway, update_gateway

DEMO_MAX = 1_000 * SCALE
PAYPAL = "paypal"
"""The demo's PayPal gateway; the simulator's pre-registered webhook points at its webhook path."""


@dataclass(frozen=True)
class DemoGateway:
    name: str
    kind: str
    display_name: str
    options: Mapping[str, str]


def demo_gateways(panel_url: str) -> list[DemoGateway]:
    """The three gateways of the demo panel at ``panel_url``, each pointed at the simulator it serves."""
    base = panel_url + simulated.MOUNT
    paypal, perfectmoney, cryptomus = simulated.PAYPAL_APP, simulated.PERFECTMONEY_ACCOUNT, simulated.CRYPTOMUS_MERCHANT
    return [
        DemoGateway(
            PAYPAL,
            "paypal",
            "PayPal (simulated)",
            {
                "client_id": paypal[0],
                "secret": paypal[1],
                "webhook_id": simulated.PAYPAL_WEBHOOK,
                "api_base": f"{base}/paypal",
            },
        ),
        DemoGateway(
            "perfectmoney",
            "perfectmoney",
            "Perfect Money (simulated)",
            {
                "payee_account": perfectmoney[0],
                "alternate_passphrase": perfectmoney[1],
                "payee_name": "smmpanel demo",
                "api_base": f"{base}/perfectmoney",
            },
        ),
        DemoGateway(
            "crypto",
            "cryptomus",
            "Crypto: Cryptomus (simulated)",
            {"merchant_id": cryptomus[0], "api_key": cryptomus[1], "api_base": f"{base}/cryptomus"},
        ),
    ]


async def load_simulated_gateways(db: Database, gateways: list[DemoGateway], *, add: bool) -> None:
    """Add ``gateways`` (when ``add``: the demo data was just loaded); otherwise update the ones there."""
    async with db.read() as repos:
        present = {gateway.name: gateway.kind for gateway in await repos.gateways.listing(enabled_only=False)}
    for gateway in gateways:
        if present.get(gateway.name) == gateway.kind:
            await update_gateway(db, gateway.name, GatewayChanges(options=gateway.options))
        elif add and gateway.name not in present:
            changes = GatewayChanges(display_name=gateway.display_name, min_amount=SCALE // 100, max_amount=DEMO_MAX)
            await add_gateway(db, gateway.kind, gateway.name, options=gateway.options, changes=changes)
