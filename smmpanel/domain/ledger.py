"""Why money moved: every ledger entry carries one of these kinds."""

from enum import StrEnum


class EntryKind(StrEnum):
    TOPUP = "topup"
    CHARGE = "charge"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    COUPON = "coupon"
    AFFILIATE_PAYOUT = "affiliate_payout"
