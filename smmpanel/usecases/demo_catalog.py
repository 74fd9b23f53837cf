"""The demo's catalog steps aside once the operator imports a real provider's.

``make run`` fills an empty panel with the provider simulator's services (``demo.load_demo``). An
operator who then imports a real provider's catalog would otherwise sell both, often under the very
same names. So the first import from any other provider switches off every service that only the
demo's simulator fulfils: hidden from customers, never deleted (orders already placed keep them),
and the operator can switch any of them on again on Services. It happens once per panel (a setting
remembers it), so a service the operator switched back on stays on through later imports.
"""

from __future__ import annotations

from smmpanel.db.unit_of_work import Database
from smmpanel.usecases.audit import Audit, record
from smmpanel.usecases.catalog import ServiceChanges, update_service

SIMULATOR_NAME = "simulator"
"""The demo's provider: the simulator served under ``/simulator``."""
HIDDEN_SETTING = "demo_catalog_hidden"


async def demo_only_services(db: Database) -> list[int]:
    """The enabled services that the demo's simulator, and no other provider, fulfils."""
    async with db.read() as repos:
        simulator = await repos.providers.by_name(SIMULATOR_NAME)
        if simulator is None:
            return []
        links = await repos.links.of_provider(simulator.id)
        services = await repos.services.many(link.service_id for link in links)
        found = []
        for service_id, service in sorted(services.items()):
            others = [link for link in await repos.links.of_service(service_id) if link.provider_id != simulator.id]
            if service.enabled and not others:
                found.append(service_id)
    return found


async def hide_demo_catalog(db: Database, imported_from: str, *, audit: Audit | None = None) -> list[int]:
    """After an import from ``imported_from``: switch the demo's services off, unless that was the
    simulator or it was done before; answer the services switched off."""
    if imported_from == SIMULATOR_NAME:
        return []
    async with db.read() as repos:
        if await repos.settings.get(HIDDEN_SETTING) is not None:
            return []
    hidden = await demo_only_services(db)
    for service_id in hidden:
        await update_service(db, service_id, ServiceChanges(enabled=False))
    async with db.write() as repos:
        await repos.settings.put(HIDDEN_SETTING, "yes")
    if hidden:
        await record(db, audit, "demo.hide_catalog", f"provider {SIMULATOR_NAME}", None, {"disabled": hidden})
    return hidden
