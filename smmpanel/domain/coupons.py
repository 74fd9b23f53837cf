"""Coupons: codes the operator hands out, worth a fixed amount or a percent of the next deposit.

Pure rules only: what a code may look like, when a coupon can still be redeemed, and
what it is worth. The one-use-per-customer and usage-limit guarantees under concurrency
live in the database (a unique constraint and a conditional update, ``smmpanel.db``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from smmpanel.errors import Refused
from smmpanel.money import SCALE, Units

_CODE = re.compile(r"^[A-Z0-9_-]{3,32}$", re.ASCII)
MAX_PERCENT: Units = 100 * SCALE

UNKNOWN = "This coupon code is not valid"
DISABLED = "This coupon is no longer available"
EXPIRED = "This coupon has expired"
USED_UP = "This coupon has been used up"
ALREADY_USED = "You have already used this coupon"
PERCENT_WAITING = "You already have a deposit coupon waiting for your next deposit"


class CouponKind(StrEnum):
    AMOUNT = "amount"
    """A fixed amount, credited when the coupon is redeemed."""
    PERCENT = "percent"
    """A percent of the customer's next completed deposit, credited with that deposit."""


@dataclass(frozen=True, slots=True)
class Coupon:
    id: int
    code: str
    kind: CouponKind
    value: Units
    """The amount credited (``AMOUNT``), or the percent as an amount: 12.5 % is ``parse_amount("12.5")``."""
    max_uses: int | None
    uses: int
    expires_on: date | None
    """The last day (UTC) the coupon can be redeemed; None: it never expires."""
    disabled: bool
    created_at: datetime


def normalize_code(text: str) -> str:
    """Codes are compared without regard to case or surrounding spaces: ``spring25`` is ``SPRING25``."""
    return text.strip().upper()


def check_new_code(code: str) -> str:
    """The normalized code, or ``Refused`` when it is not 3-32 letters, digits, '_' or '-'."""
    normalized = normalize_code(code)
    if not _CODE.match(normalized):
        raise Refused("A coupon code is 3-32 letters, digits, '_' or '-'")
    return normalized


def check_new_terms(kind: CouponKind, value: Units, max_uses: int | None) -> None:
    """An amount above zero, or a percent above 0 and at most 100; a usage limit of at least one."""
    if value <= 0:
        raise Refused("A coupon's amount or percent must be above zero")
    if kind is CouponKind.PERCENT and value > MAX_PERCENT:
        raise Refused("A coupon's percent must be at most 100")
    if max_uses is not None and max_uses < 1:
        raise Refused("A coupon's usage limit must be at least 1")


def redeemable_problem(coupon: Coupon, today: date) -> str | None:
    """Why ``coupon`` cannot be redeemed today, or None; it stays valid through its expiry date."""
    if coupon.disabled:
        return DISABLED
    if coupon.expires_on is not None and today > coupon.expires_on:
        return EXPIRED
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        return USED_UP
    return None


def percent_of(amount: Units, percent: Units) -> Units:
    """``amount × percent / 100``, rounded down: the panel never pays more than the stated percent.

    ``percent`` is an amount (``parse_amount("2.5")`` for 2.5 %), so fractional percents are exact.
    """
    if amount < 0 or percent < 0:
        raise ValueError("amount and percent must not be negative")
    return amount * percent // MAX_PERCENT
