"""Display currencies: what a customer reads prices and their balance in, never what they pay in.

The ledger, every charge and every API answer stay in the panel's own currency. A display
currency only converts an amount for reading: ``amount × rate``, rounded **half-up** (ties away
from zero) to the currency's own number of decimals, and written with a leading ``≈``. The
arithmetic is on integers (the rate's digits and the amount's units), so no float and no
Decimal context precision can change a digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from smmpanel.money import DIGITS, Units

APPROX = "≈"
MAX_DECIMALS = 8
"""A display currency shows at most this many decimals (BTC shows 8)."""
RATE_WHOLE_DIGITS = 12
RATE_DECIMALS = 12
_RATE = re.compile(rf"^(?P<whole>\d{{1,{RATE_WHOLE_DIGITS}}})(?:\.(?P<frac>\d{{1,{RATE_DECIMALS}}}))?$", re.ASCII)
_CODE = re.compile(r"^[A-Z]{3}$", re.ASCII)
MAX_SYMBOL = 8


@dataclass(frozen=True, slots=True)
class DisplayCurrency:
    """A currency prices can be shown in; ``rate`` is how many of its units one unit of the panel's buys."""

    code: str
    symbol: str
    decimals: int
    rate: Decimal
    is_default: bool = False
    is_panel: bool = False
    """The panel's own currency: amounts are shown exactly, as the ledger keeps them."""

    @property
    def rate_text(self) -> str:
        return format_rate(self.rate)


def parse_rate(text: str) -> Decimal:
    """An exchange rate as the operator wrote it: plain digits, at most 12 before and 12 after the point,
    above zero. Refused otherwise (ValueError with the reason)."""
    match = _RATE.match(text.strip())
    if match is None:
        raise ValueError(
            f"rate must be a plain number with at most {RATE_WHOLE_DIGITS} digits before"
            f" and {RATE_DECIMALS} after the point, e.g. 0.92"
        )
    rate = Decimal(text.strip())
    if rate <= 0:
        raise ValueError("rate must be above zero")
    return rate


def format_rate(rate: Decimal) -> str:
    """The rate without trailing zeros and without an exponent: ``0.92``, ``150``, ``0.000012``."""
    text = format(rate, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def check_currency(code: str, symbol: str, decimals: int) -> str | None:
    """Why a currency cannot be stored, or None when it can."""
    if not _CODE.match(code):
        return "code must be three capital letters (ISO 4217), e.g. EUR"
    if len(symbol) > MAX_SYMBOL or any(not ch.isprintable() for ch in symbol):
        return f"symbol must be at most {MAX_SYMBOL} printable characters"
    if not 0 <= decimals <= MAX_DECIMALS:
        return f"decimals must be between 0 and {MAX_DECIMALS}"
    return None


def converted_minor(units: Units, rate: Decimal, decimals: int) -> int:
    """``units`` (1/100,000 of the panel's currency) × ``rate``, in 1/10**decimals of the display
    currency, rounded half-up (a tie goes away from zero)."""
    sign, digits, exponent = rate.as_tuple()
    assert isinstance(exponent, int) and not sign, "rates are positive and finite (parse_rate)"
    numerator = int("".join(map(str, digits)))
    product = abs(units) * numerator
    shift = exponent - DIGITS + decimals  # product × 10**shift is the result in minor units
    minor: int
    if shift >= 0:
        minor = product * 10**shift
    else:
        divisor = 10**-shift
        minor = (product * 2 + divisor) // (2 * divisor)
    return -minor if units < 0 else minor


def format_minor(minor: int, decimals: int) -> str:
    """Minor units written with exactly ``decimals`` decimals: ``1152`` at 2 → ``11.52``."""
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}" if decimals else f"{sign}{whole}"


def converted_text(units: Units, currency: DisplayCurrency) -> str:
    """``≈ €11.52`` (with a symbol) or ``≈ 11.52 EUR`` (without): the display value of an amount."""
    number = format_minor(converted_minor(units, currency.rate, currency.decimals), currency.decimals)
    if currency.symbol:
        signed = f"-{currency.symbol}{number[1:]}" if number.startswith("-") else f"{currency.symbol}{number}"
        return f"{APPROX} {signed}"
    return f"{APPROX} {number} {currency.code}"
