"""Why money moved: every ledger entry carries one of these kinds."""

from enum import StrEnum


class EntryKind(StrEnum):
    TOPUP = "topup"
    CHARGE = "charge"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    DEPOSIT_BONUS = "deposit_bonus"
    """A gateway's bonus on a completed deposit; negative when its deposit is refunded."""
    PAYMENT_REFUND = "payment_refund"
    """A completed deposit handed back by the operator (negative)."""
    COUPON = "coupon"
    """A coupon: its fixed amount when redeemed, or its percent of a deposit (negative if that is refunded)."""
    AFFILIATE_PAYOUT = "affiliate_payout"
    """A referrer's pending commissions moved to their balance."""
