"""Exact money: amounts are whole numbers of 1/100,000 of the currency unit.

A float never touches an amount. Amounts travel through the program as plain
``int`` counts of the smallest unit (``Units``) so that the database, the
arithmetic and the JSON all see the same exact figure on every back end.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

DIGITS = 5
SCALE: int = 10**DIGITS

Units = int
"""An amount counted in 1/100,000 of the currency unit."""

_AMOUNT = re.compile(r"^(?P<sign>[+-]?)(?P<whole>\d{1,13})(?:\.(?P<frac>\d{1,5}))?$", re.ASCII)


class AmountError(ValueError):
    """A text is not an exact amount with at most five decimals."""


def parse_amount(text: str) -> Units:
    """Read ``"12.5"`` as 1,250,000 units; refuse anything inexact or oversized."""
    match = _AMOUNT.match(text.strip())
    if match is None:
        raise AmountError(f"invalid amount {text!r}: use digits with at most {DIGITS} decimals")
    frac = (match["frac"] or "").ljust(DIGITS, "0")
    units: int = int(match["whole"]) * SCALE + int(frac)
    return -units if match["sign"] == "-" else units


def format_amount(units: Units) -> str:
    """Write an amount as resellers expect: trailing zeros trimmed, two decimals at least."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), SCALE)
    decimals = f"{frac:0{DIGITS}d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{decimals}"


def per_thousand_charge(rate: Units, quantity: int) -> Units:
    """``rate × quantity / 1000``, rounded half-up to the smallest unit."""
    if rate < 0 or quantity < 0:
        raise ValueError("rate and quantity must not be negative")
    return (rate * quantity * 2 + 1000) // 2000


def proportional_refund(charge: Units, remains: int, quantity: int) -> Units:
    """``charge × remains / quantity``, rounded down: a refund never exceeds what is owed."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    remains = max(0, min(remains, quantity))
    return charge * remains // quantity


def marked_up_rate(rate: Units, percent: Units) -> Units:
    """``rate × (1 + percent/100)``, rounded up, so a markup never sells below cost.

    ``percent`` is itself an amount (``parse_amount("12.5")`` for 12.5 %).
    """
    numerator = rate * (100 * SCALE + percent)
    return -((-numerator) // (100 * SCALE))


_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_LIMIT = Decimal(10) ** 13


def parse_amount_rounded(text: str, *, up: bool) -> Units:
    """Read an amount someone else wrote, with any number of decimals, as whole units.

    Providers send rates like ``"0.123456"`` or ``1.5e-05``; we keep five digits.
    ``up=True`` rounds toward +∞ (a rate we pay is never understated); ``up=False``
    rounds half-up, as every charge is computed. Exact texts come back unchanged.
    """
    stripped = text.strip()
    if not _DECIMAL.match(stripped):
        raise AmountError(f"invalid amount {text!r}: not a decimal number")
    value = Decimal(stripped)
    if value.copy_abs() >= _LIMIT:  # checked first: quantize fails on coefficients beyond 28 digits
        raise AmountError(f"invalid amount {text!r}: too large")
    # quantize rounds from the exact value (multiplying first would round to the context's 28 digits)
    rounded = value.quantize(Decimal(1).scaleb(-DIGITS), rounding=ROUND_CEILING if up else ROUND_HALF_UP)
    if rounded.copy_abs() >= _LIMIT:
        raise AmountError(f"invalid amount {text!r}: too large")
    return int(rounded.scaleb(DIGITS))
