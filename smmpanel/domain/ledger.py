"""Why money moved: every ledger entry carries one of these kinds."""

from datetime import datetime
from enum import StrEnum

from smmpanel.domain.orders import Order, OrderStatus


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


def customer_note(
    kind: str, order_id: int | None, note: str, created_at: datetime, order: Order | None, per_post: bool
) -> str:
    """What a customer reads for a ledger entry: for an order's charge or refund, words derived from
    the entry's kind and the order it refers to, never the entry's own note.

    That note is the operator's, with the internal reason ("canceled upstream", "no provider took
    it"): it tells which provider delivers, which a reseller's customer must not learn. A refund
    made when a drip-feed was stopped carries the stop's very moment; later ones follow the order's
    final status. ``per_post``: the order is a Subscriptions one, charged for each delivered post.
    """
    if order_id is None or kind not in (EntryKind.CHARGE, EntryKind.REFUND):
        return note
    if kind == EntryKind.CHARGE:
        return f"Charge for a delivered post of order {order_id}" if per_post else f"Order {order_id}"
    wording = f"Refund for order {order_id}"
    if order is None:
        return wording
    if order.stopped_at is not None and created_at <= order.stopped_at and order.runs is not None:
        return f"{wording} (drip-feed stopped: {order.runs - order.runs_done} runs not placed)"
    if order.status is OrderStatus.CANCELED:
        return f"{wording} (canceled)"
    if order.status is OrderStatus.PARTIAL:
        return f"{wording} (partial: {order.remains} not delivered)"
    return wording
