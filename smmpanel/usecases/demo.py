"""Demo data: a customer with a balance and one service of every type, for a first look.

The catalog is the provider simulator's, resold at a markup, so that a demo panel
wired to the simulator forwards every order type unchanged.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from smmpanel.db.unit_of_work import Database
from smmpanel.money import marked_up_rate, parse_amount
from smmpanel.providers.simulator import CATALOG as SIMULATOR_CATALOG
from smmpanel.usecases.accounts import NewKey, create_customer
from smmpanel.usecases.catalog import ServiceChanges, create_service
from smmpanel.usecases.demo_catalog import SIMULATOR_NAME
from smmpanel.usecases.providers import add_provider, link_service

DEMO_USERNAME = "demo"
DEMO_BALANCE = "100.00"
DEMO_ADMIN = "admin"

DEMO_MARKUP = parse_amount("20")
"""Percent the demo panel adds to its provider's (the simulator's) rates."""


@dataclass(frozen=True)
class DemoData:
    customer: NewKey
    service_ids: list[int]
    password: str
    admin_username: str
    admin_password: str


async def demo_simulator_key(db: Database) -> str:
    """The key of the demo's provider simulator: the one its provider record keeps, else a new one."""
    async with db.read() as repos:
        simulator = await repos.providers.by_name(SIMULATOR_NAME)
    return simulator.api_key if simulator is not None else secrets.token_urlsafe(24)


async def load_demo(db: Database, *, simulator_url: str | None = None, simulator_key: str = "") -> DemoData | None:
    """Fill an empty panel with demo data; leave a panel that has customers untouched.

    With ``simulator_url`` every demo service is fulfilled by the provider simulator,
    so demo orders move on their own. On a panel that has its data already, only the simulator's address
    is brought up to date, in case the panel now serves on another port.
    """
    async with db.read() as repos:
        populated = await repos.users.count() > 0
        simulator = await repos.providers.by_name(SIMULATOR_NAME)
    if populated:
        if simulator is not None and simulator_url is not None:
            async with db.write() as repos:
                await repos.providers.set_url(simulator.id, simulator_url)
        return None
    service_ids = []
    for upstream in SIMULATOR_CATALOG:
        changes = ServiceChanges(
            name=upstream.name,
            category=upstream.category,
            type=upstream.type,
            rate=marked_up_rate(upstream.rate, DEMO_MARKUP),
            min=upstream.min,
            max=upstream.max,
            refill=upstream.refill,
            cancel=upstream.cancel,
            description=upstream.description,
        )
        service_ids.append(await create_service(db, changes))
    if simulator_url is not None:
        await add_provider(db, SIMULATOR_NAME, simulator_url, simulator_key)
        for service_id, upstream in zip(service_ids, SIMULATOR_CATALOG, strict=True):
            await link_service(db, service_id, SIMULATOR_NAME, upstream.id, priority=0)
    password, admin_password = secrets.token_urlsafe(9), secrets.token_urlsafe(12)
    customer = await create_customer(db, DEMO_USERNAME, parse_amount(DEMO_BALANCE), password=password)
    await create_customer(db, DEMO_ADMIN, password=admin_password, admin=True)
    return DemoData(customer, service_ids, password, DEMO_ADMIN, admin_password)
