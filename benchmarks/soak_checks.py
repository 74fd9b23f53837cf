"""The soak run's audit: what the customers were told against the database and the provider.

Three witnesses, and every disagreement between them is either a problem (the run fails)
or a case the panel is designed to hand to its operator (counted and explained):

- the load's record: the orders the API accepted, with what each must have cost, and the
  adds that got no usable answer (they may exist or not);
- the database: orders, their ledger entries, balances;
- the provider: every order it received, by link (each customer order has a link of its own;
  a drip-feed's runs share their parent's).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from benchmarks.soak_load import Record
from smmpanel.db.engine import create_engine
from smmpanel.db.tables import ledger_entries, orders, users
from smmpanel.domain.ledger import EntryKind
from smmpanel.domain.orders import OrderStatus
from smmpanel.money import format_amount

HANDED_OVER = ("attention", "failed")
"""Dispatch states in which the engine is done with an order: the operator's turn."""


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    """Each one fails the run: a lost, duplicated or wrongly charged order, a negative balance …"""
    lines: list[str] = field(default_factory=list)
    """The report: figures and the cases left to the operator."""

    def problem(self, text: str, examples: list[Any]) -> None:
        if examples:
            shown = ", ".join(map(str, examples[:10])) + (" …" if len(examples) > 10 else "")
            self.problems.append(f"{text}: {len(examples)} ({shown})")


@dataclass(frozen=True)
class PanelState:
    """What the database holds once the run is over."""

    orders: list[dict[str, Any]]
    ledger: dict[int, dict[str, Any]]
    """Per order id: ``charged`` (the sum of its charge entries), ``charges`` (how many), ``refunded``."""
    usernames: dict[int, str]
    negative: list[str]
    """Customers whose balance is below zero."""


async def read_panel(database_url: str) -> PanelState:
    engine = create_engine(database_url, pool_size=1)

    def when(kind: EntryKind, value: Any) -> Any:
        return sa.func.sum(sa.case((ledger_entries.c.kind == kind.value, value), else_=0))

    per_order = sa.select(
        ledger_entries.c.order_id,
        when(EntryKind.CHARGE, ledger_entries.c.amount).label("charged"),
        when(EntryKind.CHARGE, 1).label("charges"),
        when(EntryKind.REFUND, ledger_entries.c.amount).label("refunded"),
    ).group_by(ledger_entries.c.order_id)
    try:
        async with engine.connect() as conn:
            rows = [dict(row._mapping) for row in await conn.execute(sa.select(orders).order_by(orders.c.id))]
            ledger = {
                int(row.order_id): dict(row._mapping)
                for row in await conn.execute(per_order)
                if row.order_id is not None
            }
            names = {int(row.id): str(row.username) for row in await conn.execute(sa.select(users))}
            negative = await conn.execute(sa.select(users.c.username).where(users.c.balance < 0))
            return PanelState(rows, ledger, names, sorted(negative.scalars()))
    finally:
        await engine.dispose()


def _reason(text: str | None) -> str:
    """An attention reason with its numbers taken out, so that alike reasons count together."""
    text = re.sub(r"<[^>]*>", " ", text or "(none)")  # a provider's HTML error page, read as text
    return re.sub(r"\s+", " ", re.sub(r"\d+", "N", text))[:140]


def audit(record: Record, panel: PanelState, upstream: list[dict[str, Any]]) -> Findings:
    found = Findings()
    _check_accepted(found, record, panel)
    _check_upstream(found, panel.orders, upstream)
    found.problem("negative balances", panel.negative)
    _report_unfinished(found, panel.orders)
    return found


def _check_accepted(found: Findings, record: Record, panel: PanelState) -> None:
    """Every accepted order exists once, as told, with exactly its charge in the ledger."""
    rows, ledger, names = panel.orders, panel.ledger, panel.usernames
    by_id = {int(row["id"]): row for row in rows}
    lost, wrong, unbooked = [], [], []
    for order_id, accepted in sorted(record.accepted.items()):
        row = by_id.get(order_id)
        if row is None or names.get(int(row["user_id"])) != accepted.username or row["link"] != accepted.link:
            lost.append(order_id)
            continue
        if int(row["charge"]) != accepted.charge:
            wrong.append(f"{order_id}: {format_amount(int(row['charge']))} not {format_amount(accepted.charge)}")
    for row in rows:  # every order, the engine's drip-feed runs included: charges and refunds as recorded
        money = ledger.get(int(row["id"]), {"charged": 0, "charges": 0, "refunded": 0})
        expected_entries = 1 if int(row["charge"]) else 0
        booked = (-int(money["charged"]), int(money["charges"]), int(money["refunded"]))
        if booked != (int(row["charge"]), expected_entries, int(row["refunded"])):
            unbooked.append(f"{row['id']}: ledger charge/entries/refund {booked}")
    found.problem("accepted orders missing (or not as accepted)", lost)
    found.problem("accepted orders with another charge", wrong)
    found.problem("orders whose ledger entries differ from their charge or refund", unbooked)
    customer_orders = [row for row in rows if row["parent_id"] is None]
    links = Counter(row["link"] for row in customer_orders)
    found.problem("orders created twice (one link, two orders)", sorted(link for link, n in links.items() if n > 1))
    unknown = [row for row in customer_orders if int(row["id"]) not in record.accepted]
    phantom = [int(row["id"]) for row in unknown if row["link"] not in record.uncertain]
    found.problem("orders nobody was told about (not accepted, not uncertain)", phantom)
    in_db = {row["link"] for row in customer_orders}
    made = sum(1 for link in record.uncertain if link in in_db)
    found.lines.append(
        f"orders: {len(record.accepted)} accepted, all found once with their charge"
        if not (lost or wrong)
        else f"orders: {len(record.accepted)} accepted, {len(lost)} missing, {len(wrong)} wrongly charged"
    )
    if record.uncertain:
        found.lines.append(
            f"adds without an answer (5xx or dropped): {len(record.uncertain)}; "
            f"{made} of them created (charged, the customer sees them in status), {len(record.uncertain) - made} not"
        )


def _check_upstream(found: Findings, rows: list[dict[str, Any]], upstream: list[dict[str, Any]]) -> None:
    """Nothing sent twice; every upstream order known to the panel, or explained by its attention list."""
    link_of = {int(item["order"]): str(item["link"]) for item in upstream}
    sendable = [row for row in rows if row["runs"] is None or row["parent_id"] is not None]
    panel_count = Counter(row["link"] for row in sendable)
    upstream_count = Counter(link_of.values())
    twice = sorted(f"{link} x{n}" for link, n in upstream_count.items() if n > panel_count[link])
    found.problem("orders sent upstream more often than the panel has them", twice)
    linked = [row for row in rows if row["provider_order_id"] is not None]
    ids = Counter(int(row["provider_order_id"]) for row in linked)
    found.problem("upstream ids given to two panel orders", sorted(i for i, n in ids.items() if n > 1))
    mislinked = [
        f"{row['id']}→{row['provider_order_id']}"
        for row in linked
        if link_of.get(int(row["provider_order_id"])) != row["link"]
    ]
    found.problem("panel orders linked to an upstream order of another link", mislinked)
    waiting = Counter(
        row["link"] for row in sendable if row["provider_order_id"] is None and row["dispatch"] == "attention"
    )
    orphans = Counter(link for order_id, link in link_of.items() if order_id not in ids)
    unexplained = sorted(f"{link} x{n - waiting[link]}" for link, n in orphans.items() if n > waiting[link])
    found.problem("upstream orders the panel knows nothing of (nor has in attention)", unexplained)
    at_provider = sum(min(n, orphans[link]) for link, n in waiting.items())
    found.lines.append(
        f"provider: received {len(upstream)} orders, {len(upstream) - orphans.total()} linked to panel orders; "
        f"in attention without an upstream id: {at_provider} at the provider (operator: `order set-upstream`), "
        f"{waiting.total() - at_provider} not (operator: `order resend`)"
    )


def _report_unfinished(found: Findings, rows: list[dict[str, Any]]) -> None:
    """Orders the engine had not finished when the drain ended, and those handed to the operator."""
    final = {status.value for status in OrderStatus if status.is_final}
    statuses = Counter(str(row["status"]) for row in rows if row["parent_id"] is None)
    found.lines.append("customer orders by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    handed = Counter(
        f"{row['dispatch']}: {_reason(row['attention_reason'])}" for row in rows if row["dispatch"] in HANDED_OVER
    )
    open_rows = [row for row in rows if row["status"] not in final and row["dispatch"] not in HANDED_OVER]
    unfinished = Counter(f"{row['status']}/{row['dispatch']}" for row in open_rows)
    found.lines.append(f"unfinished after the drain: {sum(unfinished.values())} {dict(unfinished) or ''}".rstrip())
    found.lines.append(f"attention/failed: {sum(handed.values())}")
    found.lines += [f"  {count:>5}  {reason}" for reason, count in handed.most_common()]
