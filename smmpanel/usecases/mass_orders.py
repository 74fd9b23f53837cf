"""Mass order: many ``service | link | quantity`` lines, each placed as its own order.

Each line goes through ``orders.place_order`` in its own transaction, exactly as one
API ``add`` would: a refused line is reported with the API's error text and charges
nothing, and never stops the lines after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.db.unit_of_work import Database
from smmpanel.errors import Refused
from smmpanel.money import Units
from smmpanel.usecases import orders

MAX_LINES = 100
LINE_FORMAT = "Write each order as: service ID | link | quantity"


@dataclass(frozen=True)
class MassLine:
    number: int
    """The line's number in the text as written (blank lines count), so the customer can find it."""
    text: str
    order_id: int | None = None
    charge: Units = 0
    error: str | None = None


def _params(line: str) -> dict[str, str] | None:
    """``service | link | quantity`` (or ``service | link`` for a package); a link may itself hold ``|``."""
    parts = [part.strip() for part in line.split("|")]
    if len(parts) < 2:
        return None
    if len(parts) == 2:
        return {"service": parts[0], "link": parts[1]}
    return {"service": parts[0], "link": "|".join(parts[1:-1]).strip(), "quantity": parts[-1]}


def order_lines(text: str) -> list[tuple[int, str]]:
    """The non-blank lines with their numbers; refused as a whole when there are too many."""
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise Refused("Write at least one order")
    if len(lines) > MAX_LINES:
        raise Refused("At most %(max_lines)s orders at once", max_lines=MAX_LINES)
    return lines


async def place_mass_order(db: Database, user_id: int, text: str) -> list[MassLine]:
    """Place every line in turn; answer each line's order id and charge, or its error text."""
    results = []
    for number, line in order_lines(text):
        params = _params(line)
        if params is None:
            results.append(MassLine(number, line, error=LINE_FORMAT))
            continue
        try:
            order_id = await orders.place_order(db, user_id, params)
        except Refused as refused:
            results.append(MassLine(number, line, error=refused.message))
            continue
        results.append(MassLine(number, line, order_id=order_id))
    placed = await orders.orders_of_customer(db, user_id, [r.order_id for r in results if r.order_id])
    return [
        MassLine(r.number, r.text, r.order_id, placed[r.order_id].charge) if r.order_id in placed else r
        for r in results
    ]
