"""What a provider's rate costs the panel, in the panel's own currency, and what to sell it for.

A provider billed in another currency has an exchange rate kept as exact decimal text
(``"1.08"`` panel units per unit of theirs). Conversions of a cost round up, so a cost
is never understated; every figure stays integer units of 1/100,000 (``smmpanel.money``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from smmpanel.money import DIGITS, SCALE, Units

_RATE = re.compile(r"^\d{1,9}(?:\.\d{1,10})?$", re.ASCII)
PANEL_RATE = "1"
"""The exchange rate of a provider billed in the panel's own currency."""


class LossRule(StrEnum):
    """What the panel does when a provider's cost rises above the service's rate."""

    RAISE = "raise"
    """Raise the rate so that it keeps its markup over the new cost."""
    DISABLE = "disable"
    """Stop selling the service until the operator decides."""
    FLAG = "flag"
    """Keep selling, below cost, flagged for the operator: orders are forwarded and marked."""


def parse_exchange_rate(text: str) -> str:
    """An operator's exchange rate as canonical exact text; ``ValueError`` when it is not one."""
    stripped = text.strip()
    if not _RATE.match(stripped) or Decimal(stripped) == 0:
        raise ValueError(f"invalid exchange rate {text!r}: a positive decimal with at most 10 decimals, e.g. 1.08")
    return format(Decimal(stripped).normalize(), "f")


def _ceil(value: Fraction) -> int:
    return -((-value.numerator) // value.denominator)


def in_panel_currency(amount: Units, exchange_rate: str) -> Units:
    """A provider's amount in the panel's currency, rounded up to the smallest unit."""
    return _ceil(amount * Fraction(Decimal(exchange_rate)))


def order_cost(rate: Units, quantity: int) -> Units:
    """What ``quantity`` costs at ``rate`` per 1000, rounded up: the most a provider may charge."""
    return _ceil(Fraction(rate * quantity, 1000))


def kept_markup_rate(rate: Units, old_cost: Units, new_cost: Units) -> Units:
    """``rate`` scaled by ``new_cost / old_cost`` (rounded up): the same markup over the new cost.

    With no known old cost (zero) the rate becomes the new cost itself: never below it.
    """
    if old_cost <= 0:
        return max(rate, new_cost)
    return max(new_cost, _ceil(Fraction(rate * new_cost, old_cost)))


@dataclass(frozen=True)
class Followed:
    """A service's rate after its provider's cost moved, and what its loss rule decided."""

    rate: Units
    at_loss: bool = False
    """Sold below cost with the operator's leave (rule ``flag``)."""
    disable: bool = False
    """Stopped until the cost falls back under the rate (rule ``disable``)."""


def follow_cost(rate: Units, *, locked: bool, rule: LossRule, old_cost: Units | None, new_cost: Units) -> Followed:
    """The rate of a service whose cost per 1000 went from ``old_cost`` to ``new_cost``.

    An unlocked rate follows the cost, keeping its markup, up or down. A price-locked rate
    stays, until the cost rises above it: then the service's loss rule decides (``raise``
    keeps the markup it had over the old cost). Either way a rate below cost ends here.
    """
    if not locked and old_cost != new_cost:
        rate = kept_markup_rate(rate, old_cost or 0, new_cost)
    if rate >= new_cost:
        return Followed(rate)
    if rule is LossRule.RAISE:
        return Followed(kept_markup_rate(rate, old_cost or 0, new_cost))
    if rule is LossRule.DISABLE:
        return Followed(rate, disable=True)
    return Followed(rate, at_loss=True)


class Rounding(StrEnum):
    """How an imported rate is rounded (always up, so a markup is never eaten by rounding)."""

    CENTS = "2"
    MILLS = "3"
    EXACT = "5"
    NINE = "x9"
    """Up to the next price ending in 9 in the second decimal: 1.234 → 1.29, 1.30 → 1.39."""


def rounded_rate(rate: Units, rounding: Rounding) -> Units:
    """``rate`` rounded up as the operator chose for imported prices."""
    if rounding is Rounding.NINE:
        tenth, nine = SCALE // 10, SCALE // 100 * 9
        return -((nine - rate) // tenth) * tenth + nine
    step: int = 10 ** (DIGITS - int(rounding.value))
    return -((-rate) // step) * step
