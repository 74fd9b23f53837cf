"""A live panel and the gateway simulator side by side: payments through each gateway's real wire format.

The panel is a real server on loopback; the simulator posts its callbacks to the panel's webhook
URL over HTTP. The customer's return to the panel is handed to ``payments.receive`` as the
return page does. Everything else (the customer, the gateway, the checks) goes through the use cases.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa

from smmpanel.clock import utcnow
from smmpanel.db import tables
from smmpanel.db.payment_repositories import Payment
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.payments import Verdict
from smmpanel.gateways.base import Incoming
from smmpanel.money import parse_amount
from smmpanel.usecases import payment_desk, payments
from smmpanel.usecases.gateways import GatewayChanges, add_gateway
from tests.support.gateway_simulator import LiveGatewaySimulator
from tests.support.panel import Panel
from tests.support.server import ThreadedServer


@dataclass
class Checkouts:
    """A customer's payments on a live panel, through the use cases the panel's pages call."""

    panel: Panel
    server: ThreadedServer

    @property
    def context(self) -> payments.PaymentContext:
        return payments.PaymentContext(self.server.base_url, "USD")

    def webhook_url(self, gateway: str) -> str:
        return self.context.url(payments.webhook_path(gateway))

    def gateway(
        self, kind: str, name: str, options: Mapping[str, str], *, min_amount: str = "0", max_amount: str | None = None
    ) -> None:
        changes = GatewayChanges(
            min_amount=parse_amount(min_amount), max_amount=None if max_amount is None else parse_amount(max_amount)
        )
        self.panel.run(lambda db: add_gateway(db, kind, name, options=options, changes=changes))

    def start(self, gateway: str, amount: str, user: str = "alice") -> payments.Checkout:
        async def begin(db: Database) -> payments.Checkout:
            async with db.read() as repos:
                customer = await repos.users.by_username(user)
            assert customer is not None
            return await payments.start_payment(
                db, self.context, user_id=customer.id, gateway_name=gateway, amount=parse_amount(amount)
            )

        return self.panel.run(begin)

    def come_back(self, gateway: str, location: str) -> Verdict:
        """The customer's browser arrives at the return URL ``location``, query string and all."""
        incoming = Incoming("return", {}, b"", query=dict(parse_qsl(urlsplit(location).query)))
        return self.panel.run(lambda db: payments.receive(db, self.context, gateway, incoming)).verdict

    def payment(self, payment_id: int) -> Payment:
        return self.panel.run(lambda db: payment_desk.payment_detail(db, payment_id)).payment

    def outcomes(self, payment_id: int) -> list[str]:
        return [
            event.outcome for event in self.panel.run(lambda db: payment_desk.payment_detail(db, payment_id)).events
        ]

    def stray(self) -> list[tuple[str, str | None]]:
        """Events that no payment owns (refused or unknown), oldest first: (outcome, reference)."""

        async def read(db: Database) -> list[tuple[str, str | None]]:
            async with db.read() as repos:
                events = await repos.payment_events.page(gateway_id=None, before=None, after=None, limit=500)
            return [(e.outcome, e.reference) for e in sorted(events, key=lambda e: e.id) if e.payment_id is None]

        return self.panel.run(read)

    def expire(self, payment_id: int) -> None:
        """The payment's time ran out a second ago."""

        async def rewind(db: Database) -> None:
            async with db.engine.begin() as conn:
                await conn.execute(
                    sa.update(tables.payments)
                    .where(tables.payments.c.id == payment_id)
                    .values(expires_at=utcnow() - timedelta(seconds=1))
                )

        self.panel.run(rewind)

    def settled(self, payment_id: int, balance: str, outcomes: list[str], user: str = "alice") -> None:
        """The payment's events are ``outcomes``, the balance is exactly ``balance``, the ledger adds up."""
        assert self.outcomes(payment_id) == outcomes
        assert self.panel.balance(user) == balance
        assert self.panel.ledger_ok()


@dataclass
class Bench(Checkouts):
    """Checkouts on a panel that pays through the gateway simulator ``sim``."""

    sim: LiveGatewaySimulator


@contextmanager
def bench(database_url: str, start_server: Any, sim: LiveGatewaySimulator) -> Iterator[Bench]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.customer("alice", "0")
    try:
        yield Bench(panel, server, sim)
    finally:
        panel.close()
