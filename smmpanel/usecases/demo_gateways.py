"""Demo payment gateways: added once to a freshly loaded demo panel, re-pointed on every start.

The demo's gateways talk to a simulator served by the panel itself, whose address changes
with the port the panel serves on; like the demo's provider, their ``api_base`` is brought
up to date each time, and a gateway the operator removed or renamed is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from smmpanel.db.unit_of_work import Database
from smmpanel.money import SCALE
from smmpanel.usecases.gateways import GatewayChanges, add_gateway, update_gateway

DEMO_MAX = 1_000 * SCALE


@dataclass(frozen=True)
class DemoGateway:
    name: str
    kind: str
    display_name: str
    options: Mapping[str, str]


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
