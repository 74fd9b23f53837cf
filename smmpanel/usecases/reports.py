"""The operator's overview: money in and out, the order book, and what waits for them.

Revenue is what customers were charged less what they got back (from the ledger,
so it matches balances exactly); cost is what providers reported charging for
the orders (``orders.upstream_charge``); margin is the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from smmpanel.clock import utcnow
from smmpanel.db.breakdown_repositories import BreakdownBy, BreakdownRow
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.domain.periods import DayRange
from smmpanel.errors import Refused
from smmpanel.money import Units, format_amount, parse_amount
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.operations import fold_counts
from smmpanel.usecases.providers import ProviderView, list_providers

DAYS = 30
LOW_BALANCE_SETTING = "low_balance_threshold"
DEFAULT_LOW_BALANCE: Units = parse_amount("10")
BREAKDOWN_LIMIT = 50


@dataclass(frozen=True)
class DayFigures:
    day: date
    revenue: Units
    cost: Units

    @property
    def margin(self) -> Units:
        return self.revenue - self.cost


@dataclass(frozen=True)
class Overview:
    today: DayFigures
    days: list[DayFigures]
    """Oldest first, one per day of the window including today, zeros where nothing happened."""
    orders_by_status: dict[str, int]
    """Orders placed in the window, every status listed."""
    tickets_waiting: int
    low_balance_threshold: Units

    @property
    def revenue(self) -> Units:
        return sum(day.revenue for day in self.days)

    @property
    def cost(self) -> Units:
        return sum(day.cost for day in self.days)

    @property
    def margin(self) -> Units:
        return self.revenue - self.cost


async def low_balance_threshold(db: Database) -> Units:
    """The balance under which a provider is flagged; a panel setting, 10.00 until the operator sets it."""
    async with db.read() as repos:
        text = await repos.settings.get(LOW_BALANCE_SETTING)
    try:
        return DEFAULT_LOW_BALANCE if text is None else parse_amount(text)
    except ValueError:
        return DEFAULT_LOW_BALANCE


async def overview(db: Database, *, days: int = DAYS, now: datetime | None = None) -> Overview:
    now = now or utcnow()
    first_day = now.date() - timedelta(days=days - 1)
    await fold_counts(db)
    async with db.read() as repos:
        revenue = await repos.reports.revenue_by_day(first_day)
        cost = await repos.counts.upstream_cost_by_day(first_day)
        by_status = await repos.counts.by_status(first_day)
        waiting = await repos.reports.tickets_waiting()
    threshold = await low_balance_threshold(db)
    series = [
        DayFigures(day, revenue.get(day, 0), cost.get(day, 0))
        for day in (first_day + timedelta(days=offset) for offset in range(days))
    ]
    statuses = {status.value: by_status.get(status.value, 0) for status in OrderStatus}
    return Overview(series[-1], series, statuses, waiting, threshold)


async def set_low_balance_threshold(db: Database, threshold: Units, *, audit: Audit | None = None) -> None:
    if threshold < 0:
        raise Refused("the threshold must not be negative")
    async with db.write() as repos:
        old = await repos.settings.get(LOW_BALANCE_SETTING)
        await repos.settings.put(LOW_BALANCE_SETTING, format_amount(threshold))
        before = {"value": old}
        after = {"value": format_amount(threshold)}
        await audited(repos, audit, "setting.update", f"setting {LOW_BALANCE_SETTING}", before, after)


@dataclass(frozen=True)
class ProviderHealth:
    low: list[ProviderView]
    """Providers that said their balance, and it is under the threshold."""
    unreachable: list[ProviderView]
    """Providers that could not say their balance (asked live), with why."""


async def provider_health(db: Database, pool: ClientPool) -> ProviderHealth:
    """Providers low on balance and providers that cannot be reached: two different troubles."""
    threshold = await low_balance_threshold(db)
    views = await list_providers(db, pool)
    low = [view for view in views if view.balance is not None and view.balance < threshold]
    return ProviderHealth(low, [view for view in views if view.balance is None])


@dataclass(frozen=True)
class Breakdown:
    """Orders placed in a range, summed per service, provider or customer; the most charged first."""

    by: BreakdownBy
    days: DayRange
    rows: list[BreakdownRow]

    @property
    def orders(self) -> int:
        return sum(row.orders for row in self.rows)

    @property
    def charged(self) -> Units:
        return sum(row.charged for row in self.rows)

    @property
    def cost(self) -> Units:
        return sum(row.cost for row in self.rows)

    @property
    def profit(self) -> Units:
        return self.charged - self.cost


def breakdown_by(text: str) -> BreakdownBy:
    try:
        return BreakdownBy(text or BreakdownBy.SERVICE)
    except ValueError:
        raise Refused("Choose service, provider or customer") from None


async def breakdown(db: Database, by: BreakdownBy, days: DayRange, *, limit: int = BREAKDOWN_LIMIT) -> Breakdown:
    """Charged (less refunds), upstream cost and profit of the orders placed in ``days``, per ``by``.

    Totals cover the ``limit`` groups shown; a panel with more groups than that sees its top ones.
    """
    if days.since is None or days.until is None:
        raise Refused("Choose the first and the last day")
    async with db.read() as repos:
        rows = await repos.breakdowns.by(by, days.since, days.until, limit)
    return Breakdown(by, days, rows)
