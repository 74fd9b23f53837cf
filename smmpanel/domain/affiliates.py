"""Affiliates: referral codes, the commission a referrer earns on a referral's deposit, payouts.

A commission is a record, not money: it becomes money only when the referrer pays it out
to their balance. A deposit that is refunded takes back its commission: an unpaid one is
reversed; one already paid out is offset by a negative commission against future ones,
so a refund never takes money from a balance the referrer may already have spent.
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum

from smmpanel.domain.coupons import MAX_PERCENT, percent_of
from smmpanel.errors import Refused
from smmpanel.money import Units, format_amount

_CODE = re.compile(r"^[A-Za-z0-9]{6,32}$", re.ASCII)
CODE_LENGTH = 10
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: a code read aloud survives
NOTHING_PENDING = "There is no commission to pay out"


class CommissionKind(StrEnum):
    EARNED = "earned"
    """Earned on a referral's completed deposit."""
    CLAWBACK = "clawback"
    """Negative: takes back an earned commission that was already paid out when its deposit was refunded."""


class CommissionStatus(StrEnum):
    PENDING = "pending"
    """Counts toward the next payout."""
    PAID = "paid"
    """Moved to the referrer's balance by a payout."""
    REVERSED = "reversed"
    """Taken back before it was paid: its deposit was refunded."""


def new_referral_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def looks_like_code(text: str) -> bool:
    """Whether ``text`` could be a referral code at all (so junk never reaches a query)."""
    return bool(_CODE.match(text))


def check_percent(percent: Units) -> None:
    if not 0 <= percent <= MAX_PERCENT:
        raise Refused("The affiliate percent must be between 0 and 100")


def check_minimum(minimum: Units) -> None:
    if minimum <= 0:
        raise Refused("The minimum payout must be above zero")


def commission_on(deposit: Units, percent: Units) -> Units:
    """The referrer's share of a deposit (the top-up itself, never a bonus), rounded down."""
    return percent_of(deposit, percent)


def check_payout(pending: Units, minimum: Units) -> None:
    """A payout moves everything pending at once, and only from the minimum up."""
    if pending <= 0:
        raise Refused(NOTHING_PENDING)
    if pending < minimum:
        raise Refused(
            "The minimum payout is %(minimum)s: %(pending)s is pending",
            minimum=format_amount(minimum),
            pending=format_amount(pending),
        )
