"""Money rules under random sequences of everything that moves money, on real databases.

Each example is one whole sequence: a catalog with every service type (some forwarded to a
provider, so the engine's side runs too), two customers, then top-ups and corrections,
orders of every type (drip-feeds and Subscriptions posts included), operator and upstream
status changes, engine sends, drip-feed runs and stops, refills and cancels. The same
sequence drives a tiny model (``money_model``), and afterwards

* every balance is the sum of its ledger entries, and none is negative;
* every order's ``refunded`` is at most its charge and is the sum of its refund entries,
  and its charge is the sum of its charge entries;
* balances, charges, refunds, statuses and every answer agree with the model to the unit;
* on SQLite and PostgreSQL the same sequence gives the same figures.

No HTTP here: the use cases are called as the API, the dashboard and the engine call them.
Every example starts from an empty database (rows deleted, schema kept), which is far
cheaper than a new database per example.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smmpanel.clock import utcnow
from smmpanel.db.dispatch_repositories import SyncClaim
from smmpanel.db.provider_repositories import ServiceLink
from smmpanel.db.tables import ledger_entries, metadata
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import Order, OrderStatus
from smmpanel.domain.refills import RefillStatus
from smmpanel.errors import NotFound, Refused
from smmpanel.providers.apiv2_client import UpstreamOrderStatus
from smmpanel.usecases import accounts, catalog, fulfilment, orders, providers, refills
from tests.property import money_model as m
from tests.support.databases import PostgresRun, SqliteTemplate
from tests.support.threads import in_thread

EXAMPLES = int(os.environ.get("SMMPANEL_PROPERTY_EXAMPLES", "25"))
"""Sequences per test; CI keeps the default, a long local run sets more."""
MAX_OPS = 24

# --- strategies ---------------------------------------------------------------------

RATES = st.one_of(
    st.integers(1, 2_000_000),
    st.sampled_from([1, 3, 7, 12345, 33333, 99999, 100000, 123457, 0]),
)


@st.composite
def service_specs(draw: st.DrawFn, kind: str, forwarded: bool | None = None) -> m.ServiceSpec:
    if kind in m.LIST_TYPES:
        low = draw(st.integers(1, 3))
        high = low + draw(st.integers(0, 6))
    else:
        low = draw(st.integers(1, 20))
        high = low + draw(st.integers(0, 3000))
    return m.ServiceSpec(
        type=kind,
        rate=draw(RATES),
        min=low,
        max=high,
        refill=draw(st.booleans()),
        cancel=draw(st.booleans()),
        forwarded=draw(st.booleans()) if forwarded is None else forwarded,
        deny_duplicate_link=draw(st.booleans()),
    )


def catalogs() -> st.SearchStrategy[tuple[m.ServiceSpec, ...]]:
    """One service of each type, plus a forwarded Default one so that drip-feeds reach the engine."""
    every_type = st.tuples(*(service_specs(kind) for kind in m.TYPES))
    return st.tuples(every_type, service_specs(m.DEFAULT, forwarded=True)).map(lambda pair: (*pair[0], pair[1]))


REF = st.integers(0, 1_000_000)
USER = st.integers(0, 1)
PICK = st.integers(-2, 1002)
SERVICE_COUNT = len(m.TYPES) + 1


PLACES = st.one_of(
    st.builds(
        m.Place,
        USER,
        st.integers(0, SERVICE_COUNT - 1),
        PICK,
        st.one_of(st.none(), st.integers(0, 4)),
        st.integers(0, 30),
        st.integers(0, 2),
        st.integers(0, 1000),
    ),
    # drip-feeds on the forwarded Default service, and Subscriptions, more often than chance would
    st.builds(
        m.Place, USER, st.just(SERVICE_COUNT - 1), PICK, st.integers(1, 4), st.integers(1, 30), st.integers(0, 2)
    ),
    st.builds(
        m.Place,
        USER,
        st.just(m.TYPES.index(m.SUBSCRIPTIONS)),
        PICK,
        st.none(),
        st.just(0),
        st.integers(0, 2),
        st.integers(0, 1000),
    ),
)


UPDATES = st.builds(
    m.Update,
    REF,
    st.one_of(st.sampled_from([m.PARTIAL, m.COMPLETED, m.CANCELED]), st.none(), st.sampled_from(m.STATUSES)),
    st.one_of(REF, st.none()),
    st.one_of(st.none(), st.integers(-1, 1000)),
)
UPSTREAM = st.builds(
    m.Upstream,
    REF,
    st.sampled_from(m.STATUSES),
    st.one_of(st.integers(-5, 5000), st.none()),
    st.one_of(st.none(), st.integers(-5, 1000)),
)


def operations() -> st.SearchStrategy[object]:
    """Every operation; the ones that finish orders, and refills, weigh double."""
    return st.one_of(
        st.builds(m.Fund, USER, st.integers(-2_000_000, 50_000_000)),
        PLACES,
        UPDATES,
        UPDATES,
        st.builds(
            m.Cancel, st.one_of(st.none(), USER), st.lists(st.one_of(REF, st.none()), min_size=1, max_size=4).map(tuple)
        ),
        st.builds(m.RequestRefill, st.none(), REF),
        st.builds(m.RequestRefill, st.one_of(st.none(), USER), REF),
        st.builds(m.SettleRefill, REF, st.sampled_from(m.REFILL_STATUSES)),
        st.builds(m.Stop, REF, st.one_of(st.none(), USER)),
        st.builds(m.PlaceRun, REF),
        st.builds(m.Send, st.lists(st.booleans(), min_size=1, max_size=3).map(tuple)),
        UPSTREAM,
        UPSTREAM,
        st.builds(m.Post, REF, PICK),
    )


BALANCES = st.one_of(st.just(1_000_000_000), st.integers(0, 200_000_000))

scenarios = st.builds(
    m.Scenario,
    catalogs(),
    st.tuples(BALANCES, BALANCES),
    st.tuples(st.lists(PLACES, min_size=1, max_size=3), st.lists(operations(), min_size=8, max_size=MAX_OPS)).map(
        lambda parts: (*parts[0], *parts[1])
    ),
)

# --- running a scenario on a real database -------------------------------------------


@dataclass
class Trace:
    outcomes: list[tuple[object, object]] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)


async def empty(db: Database) -> None:
    """Delete every row, keeping the schema (and PostgreSQL's sequences: ids need not restart)."""
    async with db.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


def place_params(spec: m.ServiceSpec, service_id: int, op: m.Place) -> dict[str, str]:
    params = {"service": str(service_id)}
    if spec.type == m.SUBSCRIPTIONS:
        low, high = m.subscription_bounds(spec, op.pick, op.spread)
        return {**params, "username": f"user{op.link}", "min": str(low), "max": str(high), "delay": "0"}
    params["link"] = f"https://x.test/p{op.link}"
    if spec.type == m.PACKAGE:
        return params
    quantity = m.size(spec, op.pick)
    if spec.type in m.LIST_TYPES:
        name = "comments" if spec.type == m.CUSTOM_COMMENTS else "usernames"
        params[name] = "\r\n".join(f"line{n}" for n in range(quantity)) + "\n \n"  # blank lines do not count
        return params
    params["quantity"] = str(quantity)
    if spec.type == m.DEFAULT and op.runs is not None:
        params.update(runs=str(op.runs), interval=str(op.interval))
    extra = {
        m.MENTIONS_HASHTAG: ("hashtag", "#tag"),
        m.MENTIONS_USER_FOLLOWERS: ("username", "someone"),
        m.COMMENT_LIKES: ("username", "someone"),
        m.POLL: ("answer_number", "2"),
    }.get(spec.type)
    if extra:
        params[extra[0]] = extra[1]
    return params


class Runner:
    """Applies resolved operations to the database through the use cases, recording each answer."""

    def __init__(self, db: Database, scenario: m.Scenario) -> None:
        self.db = db
        self.scenario = scenario
        self.users: list[int] = []
        self.services: list[int] = []
        self.orders: list[int] = []
        self.refills: list[int] = []
        self.provider_id = 0

    async def set_up(self) -> None:
        """Two customers (through the use case: their opening balance is a ledger entry), then the
        catalog and its provider in one transaction: that is set-up, not under test, and cheap."""
        for name, opening in zip(m.USERNAMES, self.scenario.opening, strict=True):
            await accounts.create_customer(self.db, name, opening)
        self.users = [customer.id for customer in await accounts.list_customers(self.db)]
        now = utcnow()
        async with self.db.write() as repos:
            self.provider_id = await repos.providers.add("up", "http://127.0.0.1:9/api/v2", "k", now)
            for n, spec in enumerate(self.scenario.services):
                row = {
                    "name": f"{spec.type} {n}",
                    "category": "Property",
                    "type": spec.type,
                    "rate": spec.rate,
                    "min": spec.min,
                    "max": spec.max,
                    "refill": spec.refill,
                    "cancel": spec.cancel,
                    "deny_duplicate_link": spec.deny_duplicate_link,
                }
                service_id = await repos.services.add(row, now)
                if spec.forwarded:
                    await repos.links.put(ServiceLink(service_id, self.provider_id, 1000 + n, 0, None), now)
                self.services.append(service_id)

    async def apply(self, op: object) -> object:
        if isinstance(op, m.Cancel):
            assert op.user is not None  # resolved
            ids = [10**9 if ref is None else self.orders[ref] for ref in op.refs]
            answers = await orders.cancel_orders(self.db, self.users[op.user], ids)
            index = {order_id: ref for ref, order_id in zip(op.refs, ids, strict=True)}
            return [(index[order_id], answer) for order_id, answer in answers.items()]
        try:
            return await self._apply(op)
        except Refused as refused:
            target = getattr(op, "ref", None)
            if isinstance(op, m.Stop) and target is not None:
                return refused.message.replace(f"Order {self.orders[target]} ", "Order # ")
            return refused.message
        except NotFound:
            return m.NOT_FOUND

    async def _apply(self, op: object) -> object:
        db = self.db
        if isinstance(op, m.Fund):
            await accounts.fund(db, m.USERNAMES[op.user], op.amount)
        elif isinstance(op, m.Place):
            spec = self.scenario.services[op.service]
            params = place_params(spec, self.services[op.service], op)
            self.orders.append(await orders.place_order(db, self.users[op.user], params))
        elif isinstance(op, m.Update):
            order_id = self.orders[op.ref]
            current = await self._order(order_id)
            remains = None if op.remains is None else m.fold_remains(op.remains, current.ordered)
            status = None if op.status is None else OrderStatus(op.status)
            change = orders.OrderUpdate(status=status, start_count=op.start_count, remains=remains)
            await orders.update_order(db, order_id, change)
        elif isinstance(op, m.RequestRefill):
            assert op.user is not None  # resolved
            order_id = self.orders[op.ref]
            outcome = (await refills.request_refills(db, self.users[op.user], [order_id]))[order_id]
            if isinstance(outcome, str):
                return outcome
            if outcome not in self.refills:
                self.refills.append(outcome)
            return self.refills.index(outcome)
        elif isinstance(op, m.SettleRefill):
            await refills.update_refill(db, self.refills[op.ref], RefillStatus(op.status))
        elif isinstance(op, m.Stop):
            await orders.stop_drip_feed(db, self.orders[op.ref], None if op.user is None else self.users[op.user])
        elif isinstance(op, m.PlaceRun):
            parent_id = self.orders[op.ref]
            placed = await fulfilment.place_drip_feed_run(db, parent_id)
            if placed:
                async with db.read() as repos:
                    children = await repos.orders.children(parent_id)
                self.orders.append(max(child.id for child in children))
            return placed
        elif isinstance(op, m.Send):
            return await self._send(op)
        elif isinstance(op, m.Upstream):
            report = UpstreamOrderStatus(OrderStatus(op.status), None, op.start_count, op.remains, "USD")
            claim = SyncClaim(self.orders[op.ref], self.provider_id, 1)
            async with db.read() as repos:
                provider = await repos.providers.by_name("up")
            assert provider is not None
            await fulfilment.apply_upstream_statuses(db, [(claim, report)], provider)
        elif isinstance(op, m.Post):
            order_id = self.orders[op.ref]
            current = await self._order(order_id)
            low, high = current.details.get("min"), current.details.get("max")
            spec = self.scenario.services[self.services.index(current.service_id)]
            quantity = m.size(spec, op.pick, low, high) if isinstance(low, int) and isinstance(high, int) else 1
            await orders.record_subscription_post(db, order_id, quantity)
        else:
            raise AssertionError(op)
        return "ok"

    async def _order(self, order_id: int) -> Order:
        async with self.db.read() as repos:
            found = await repos.orders.get(order_id)
        assert found is not None
        return found

    async def _send(self, op: m.Send) -> list[int]:
        """What one engine pass does, with the provider's answers decided by the test."""
        now = utcnow()
        claimed_until = now + timedelta(minutes=10)
        async with self.db.write() as repos:
            claims = await repos.dispatch.claim_to_send(now, claimed_until, 1000)
        sent = []
        for turn, claim in enumerate(sorted(claims, key=lambda c: c.order_id)):
            plan = await fulfilment.plan_send(self.db, claim.order_id)
            assert plan is not None
            assert await fulfilment.start_send(self.db, plan, claimed_until, claimed_until)
            if op.accept[turn % len(op.accept)]:
                await fulfilment.send_accepted(self.db, plan, 10**9 + claim.order_id)
            else:
                await fulfilment.send_refused(self.db, plan, "refused by the test")
            sent.append(self.orders.index(claim.order_id))
        return sent

    async def figures(self) -> dict[str, object]:
        """The database's figures, after checking the invariants that need no model."""
        db = self.db
        assert await accounts.verify_ledger(db) == []
        async with db.read() as repos:
            found = await repos.orders.many(self.orders)
            balances = []
            for user_id in self.users:
                customer = await repos.users.by_id(user_id)
                assert customer is not None
                balances.append(customer.balance)
            refill_rows = [await repos.refills.get(refill_id) for refill_id in self.refills]
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(ledger_entries.c.order_id, ledger_entries.c.kind, sa.func.sum(ledger_entries.c.amount))
                .where(ledger_entries.c.order_id.is_not(None))
                .group_by(ledger_entries.c.order_id, ledger_entries.c.kind)
            )
            sums = {(int(order_id), kind): int(total) for order_id, kind, total in rows}
        assert all(balance >= 0 for balance in balances), balances
        assert {kind for _, kind in sums} <= {"charge", "refund"}
        for order_id in self.orders:
            order = found[order_id]
            assert 0 <= order.refunded <= order.charge, order
            assert order.refunded == sums.get((order_id, "refund"), 0), order
            assert order.charge == -sums.get((order_id, "charge"), 0), order
        return {
            "balances": balances,
            "orders": [
                (
                    o.status.value,
                    o.charge,
                    o.refunded,
                    o.remains,
                    o.quantity,
                    o.runs_done,
                    o.stopped,
                    o.dispatch,
                    o.cancel_requested,
                )
                for o in (found[order_id] for order_id in self.orders)
            ],
            "refills": [refill.status.value for refill in refill_rows if refill is not None],
        }


async def _run(url: str, scenario: m.Scenario) -> tuple[Trace, Trace]:
    db = Database(url, pool_size=2)
    try:
        await empty(db)
        runner = Runner(db, scenario)
        await runner.set_up()
        model = m.Model(scenario)
        actual, expected = Trace(), Trace()
        for op in scenario.ops:
            resolved = model.resolve(op)
            if resolved is None:
                continue
            expected.outcomes.append((resolved, model.apply(resolved)))
            actual.outcomes.append((resolved, await runner.apply(resolved)))
        actual.figures = await runner.figures()
        expected.figures = model.figures()
        return actual, expected
    finally:
        await db.close()


def run_scenario(url: str, scenario: m.Scenario) -> Trace:
    """Run ``scenario`` on an emptied database at ``url``; check it against the model; return the trace."""
    actual, expected = in_thread(lambda: asyncio.run(_run(url, scenario)))
    for step, (got, want) in enumerate(zip(actual.outcomes, expected.outcomes, strict=True)):
        assert got == want, f"step {step}: {want[0]} answered {got[1]!r}, the model says {want[1]!r}"
    assert actual.figures == expected.figures
    return actual


# --- the tests ------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.timeout(900)  # a failure is shrunk for up to five minutes more
@PROPERTY_SETTINGS
@given(scenario=scenarios)
def test_money_rules_hold_for_any_sequence(database_url: str, scenario: m.Scenario) -> None:
    run_scenario(database_url, scenario)


@pytest.fixture
def both_urls(tmp_path: Path, sqlite_template: SqliteTemplate, request: pytest.FixtureRequest) -> Iterator[list[str]]:
    run: PostgresRun | None = request.getfixturevalue("postgres_run")
    if run is None:
        pytest.skip("PostgreSQL unavailable")
    run.empty()
    yield [sqlite_template.fresh(tmp_path), run.url]


@pytest.mark.postgres
@pytest.mark.timeout(900)
@settings(PROPERTY_SETTINGS, max_examples=max(1, EXAMPLES // 5))  # each run is also checked against the model
@given(scenario=scenarios)
def test_sqlite_and_postgres_give_the_same_figures(both_urls: list[str], scenario: m.Scenario) -> None:
    on_sqlite, on_postgres = (run_scenario(url, scenario) for url in both_urls)
    assert on_sqlite.outcomes == on_postgres.outcomes
    assert on_sqlite.figures == on_postgres.figures


@pytest.mark.parametrize("status", [OrderStatus.CANCELED, OrderStatus.PARTIAL, OrderStatus.COMPLETED])
def test_an_order_the_operator_finished_while_queued_is_never_sent(database_url: str, status: OrderStatus) -> None:
    """Found by the sequences above: a forwarded order finished by hand before the engine sent it
    stayed queued, so the engine forwarded it anyway (the operator paid the provider for an order
    already refunded), and a provider's refusal then tried to cancel a finished order."""

    async def scenario() -> None:
        db = Database(database_url, pool_size=2)
        try:
            await accounts.create_customer(db, "alice", 1_000_000)
            (alice,) = await accounts.list_customers(db)
            await providers.add_provider(db, "up", "http://127.0.0.1:9/api/v2", "k")
            changes = catalog.ServiceChanges(name="F", category="C", rate=100_000, min=1, max=1000)
            service_id = await catalog.create_service(db, changes)
            await providers.link_service(db, service_id, "up", 1, 0)
            order_id = await orders.place_order(
                db, alice.id, {"service": str(service_id), "link": "x", "quantity": "10"}
            )
            await orders.update_order(db, order_id, orders.OrderUpdate(status=status, remains=4))
            now = utcnow()
            async with db.write() as repos:
                assert await repos.dispatch.claim_to_send(now, now + timedelta(minutes=1), 100) == []
                order = await repos.orders.get(order_id)
            assert order is not None and order.status is status and order.dispatch == "done"
            assert await accounts.verify_ledger(db) == []
        finally:
            await db.close()

    in_thread(lambda: asyncio.run(scenario()))
