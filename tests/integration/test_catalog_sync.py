"""Provider sync and the loss rules, against a real upstream over HTTP: a second panel whose
operator changes its catalog between syncs (rates, descriptions, services disabled and back).

Panel B sells to panel A; B's catalog is what A syncs. Nothing is mocked: A's engine forwards
to B over HTTP, and B's ledger shows what A was charged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smmpanel.config import Settings
from smmpanel.db.dispatch_repositories import ATTENTION, SENT
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.upstream_cost import LossRule, Rounding
from smmpanel.engine.catalog_sync import sync_due_catalogs
from smmpanel.money import parse_amount
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import catalog, catalog_sync, providers
from smmpanel.usecases.audit import Audit
from tests.support.engine import ENGINE_SETTINGS, all_orders, order_of, run_passes
from tests.support.panel import Panel
from tests.support.server import LiveServer

LINK = "https://instagram.com/p/sync"
OPERATOR = Audit("operator")


class Chain:
    """Panel A, buying from panel B as the customer ``reseller-a``."""

    def __init__(self, a: Panel, b: Panel) -> None:
        self.a, self.b = a, b
        key = b.customer("reseller-a", balance="100")
        self.b_service = b.service(name="IG Followers", rate="1.00", min=10, max=10000, description="B's words")
        a.run(lambda db: providers.add_provider(db, "panel-b", b.api_url or "", key))

    def with_pool(self, work: Callable[[Database, ClientPool], Any]) -> Any:
        async def run(db: Database) -> Any:
            pool = ClientPool(Settings(database_url=self.a.database_url, **ENGINE_SETTINGS))
            try:
                return await work(db, pool)
            finally:
                await pool.aclose()

        return self.a.run(run)

    def import_all(self, markup: str = "20", rounding: Rounding = Rounding.EXACT) -> providers.ImportReport:
        return self.with_pool(
            lambda db, pool: providers.import_catalog(
                db, pool, "panel-b", markup=parse_amount(markup), rounding=rounding
            )
        )

    def sync(self) -> list[dict[str, object]]:
        return self.with_pool(lambda db, pool: catalog_sync.sync_catalog(db, pool, "panel-b"))

    def b_changes(self, **terms: Any) -> None:
        """B's operator edits its service (the upstream catalog changes)."""
        if "rate" in terms:
            terms["rate"] = parse_amount(terms["rate"])
        self.b.run(lambda db: catalog.update_service(db, self.b_service, catalog.ServiceChanges(**terms)))

    def a_service(self, service_id: int = 1) -> Any:
        return self.a.run(lambda db: catalog.service_by_id(db, service_id))


@pytest.fixture
def chain(start_server: Callable[..., LiveServer], database_url: str, second_database_url: str) -> Iterator[Chain]:
    a = Panel(database_url, start_server().api_url)
    b = Panel(second_database_url, start_server(database_url=second_database_url).api_url)
    yield Chain(a, b)
    a.close()
    b.close()


def place(panel: Panel, key: str, quantity: int) -> int:
    answer = panel.call(key, "add", service=1, link=LINK, quantity=quantity)
    assert set(answer) == {"order"}, answer
    return int(answer["order"])


def test_a_sync_follows_rates_and_terms_but_keeps_the_operators_edits(chain: Chain) -> None:
    assert chain.import_all(markup="20").created == [1]
    assert chain.a_service().rate == parse_amount("1.20")
    # The operator rewrites the description and the name by hand.
    chain.a.run(
        lambda db: catalog.update_service(
            db, 1, catalog.ServiceChanges(description="Ours", name="Followers (fast)"), audit=OPERATOR
        )
    )
    chain.b_changes(rate="1.50", description="B's new words", max=5000, refill=False)
    changes = chain.sync()
    service = chain.a_service()
    assert (service.name, service.description) == ("Followers (fast)", "Ours")
    assert (service.rate, service.max, service.refill) == (parse_amount("1.80"), 5000, False)  # 20 % kept
    moved = {(c["kind"], c["field"]): (c["old"], c["new"]) for c in changes}
    assert moved == {
        ("terms", "max"): ("10000", "5000"),
        ("terms", "refill"): ("yes", "no"),
        ("rate", "rate"): ("1.20", "1.80"),
        ("cost", "cost"): ("1.00", "1.50"),
    }
    owned = chain.a.run(lambda db: catalog_sync.upkeep_of(db, 1)).operator_fields
    assert owned == {"name", "description"}
    # Re-import, too, keeps the edited description (it used to overwrite it).
    chain.import_all(markup="20")
    assert chain.a_service().description == "Ours"
    # Nothing moved upstream: a second sync changes nothing and lists nothing.
    assert chain.sync() == []


def test_a_service_disabled_upstream_is_disabled_here_and_comes_back(chain: Chain) -> None:
    chain.import_all()
    chain.b_changes(enabled=False)
    assert [c["kind"] for c in chain.sync()] == ["disabled"]
    assert chain.a_service().enabled is False
    assert chain.sync() == []
    chain.b_changes(enabled=True)
    assert [c["kind"] for c in chain.sync()] == ["enabled"]
    assert chain.a_service().enabled is True
    # A service the operator disabled by hand stays disabled, whatever the provider does.
    chain.a.run(lambda db: catalog.update_service(db, 1, catalog.ServiceChanges(enabled=False), audit=OPERATOR))
    chain.b_changes(rate="1.10")
    chain.sync()
    assert chain.a_service().enabled is False


@pytest.mark.parametrize(
    ("rule", "rate", "enabled"),
    [(LossRule.RAISE, "2.18182", True), (LossRule.DISABLE, "1.20", False), (LossRule.FLAG, "1.20", True)],
)
def test_a_price_locked_service_follows_its_loss_rule_when_the_cost_passes_its_rate(
    chain: Chain, rule: LossRule, rate: str, enabled: bool
) -> None:
    chain.import_all()
    chain.a.run(lambda db: catalog.update_service(db, 1, catalog.ServiceChanges(price_locked=True), audit=OPERATOR))
    chain.a.run(lambda db: catalog_sync.set_loss_rule(db, 1, rule))
    chain.b_changes(rate="1.10")  # still under the locked 1.20: the rate stays
    chain.sync()
    assert chain.a_service().rate == parse_amount("1.20")
    chain.b_changes(rate="2.00")
    chain.sync()  # raise: the markup it had over 1.10 is kept, 1.20 × 2.00 / 1.10 = 2.181818…, up
    service = chain.a_service()
    assert (service.rate, service.enabled) == (parse_amount(rate), enabled)
    assert chain.a.run(lambda db: catalog_sync.upkeep_of(db, 1)).at_loss is (rule is LossRule.FLAG)


def test_an_order_is_never_forwarded_below_cost_after_a_rate_rise(chain: Chain) -> None:
    chain.import_all()  # 1.20 for B's 1.00
    alice = chain.a.customer("alice", balance="10")
    cheap = place(chain.a, alice, 1000)  # charged 1.20, placed before A knows of the rise
    chain.b_changes(rate="2.00")
    chain.sync()  # A's rate follows to 2.40; the order already placed still pays 1.20
    dear = place(chain.a, alice, 1000)  # charged 2.40
    run_passes(chain.a, 2)
    held = order_of(chain.a, cheap)
    assert held.dispatch == ATTENTION
    assert held.attention_reason is not None and "exceeds its charge (1.20)" in held.attention_reason
    assert "2.00 at the cheapest provider" in held.attention_reason
    assert order_of(chain.a, dear).dispatch == SENT
    forwarded = all_orders(chain.b)
    assert [o.charge for o in forwarded] == [parse_amount("2.00")]  # only the order that covers its cost
    assert chain.b.balance("reseller-a") == "98.00"
    assert chain.a.balance("alice") == "6.40"  # nothing refunded: the held order waits for the operator
    assert chain.a.ledger_ok() and chain.b.ledger_ok()


def test_a_flagged_service_forwards_below_cost_and_records_it(chain: Chain) -> None:
    chain.import_all()
    chain.a.run(lambda db: catalog_sync.set_loss_rule(db, 1, LossRule.FLAG))
    alice = chain.a.customer("alice", balance="10")
    order_id = place(chain.a, alice, 1000)
    chain.b_changes(rate="2.00")
    chain.a.run(lambda db: catalog.update_service(db, 1, catalog.ServiceChanges(price_locked=True), audit=OPERATOR))
    chain.sync()
    run_passes(chain.a, 2)
    assert order_of(chain.a, order_id).dispatch == SENT

    async def flagged(db: Database) -> dict[int, int]:
        async with db.read() as repos:
            return await repos.upkeep.below_cost.flagged([order_id])

    assert chain.a.run(flagged) == {order_id: parse_amount("2.00")}


def test_a_provider_in_another_currency_is_converted_exactly(chain: Chain) -> None:
    chain.a.run(lambda db: catalog_sync.set_billing(db, "panel-b", currency="eur", exchange_rate="1.08"))
    chain.b_changes(rate="0.12347")
    chain.import_all(markup="10", rounding=Rounding.CENTS)
    # 0.12347 EUR × 1.08 = 0.1333476 → 0.13335 (cost, up); × 1.1 = 0.146685 → 0.14669 (up); to cents: 0.15
    assert chain.a_service().rate == parse_amount("0.15")
    chain.b_changes(rate="1.00")
    assert {(c["kind"], c["new"]) for c in chain.sync()} >= {("cost", "1.08")}
    # The markup over the cost is kept: 0.15 × 1.08 / 0.13335 = 1.21484…, up.
    assert chain.a_service().rate == parse_amount("1.21485")
    with pytest.raises(Exception, match="invalid exchange rate"):
        chain.a.run(lambda db: catalog_sync.set_billing(db, "panel-b", exchange_rate="1.0e3"))


def test_the_engine_syncs_a_provider_when_its_interval_has_passed(chain: Chain) -> None:
    chain.import_all()
    chain.a.run(lambda db: catalog_sync.set_billing(db, "panel-b", sync_minutes=60))
    chain.b_changes(rate="1.50")
    assert chain.with_pool(lambda db, pool: sync_due_catalogs(db, pool)) == 1  # never synced: due
    assert chain.a_service().rate == parse_amount("1.80")
    chain.b_changes(rate="3.00")
    assert chain.with_pool(lambda db, pool: sync_due_catalogs(db, pool)) == 0  # not due for an hour
    assert chain.a_service().rate == parse_amount("1.80")
    public = chain.a.run(lambda db: catalog_sync.public_updates(db))
    assert public is None  # the customers' Updates page is off until the operator turns it on
    chain.a.run(lambda db: catalog_sync.set_updates_page(db, True))
    public = chain.a.run(lambda db: catalog_sync.public_updates(db))
    assert [(change.kind, change.old, change.new, name) for change, name in public] == [
        ("rate", "1.20", "1.80", "IG Followers"),
        ("new", None, "1.20", "IG Followers"),
    ]
