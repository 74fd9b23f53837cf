"""Payments: their states, when a gateway's confirmation completes one, and the deposit arithmetic.

Pure rules, no I/O. A payment is created ``pending`` for an amount the customer asked to add;
the gateway is asked for that amount plus the gateway's fee. Only a verified confirmation whose
reference, amount, currency and payee all match, and that says the money is final, completes it.
Everything else (a second delivery, a confirmation after expiry, another amount) is a ``Verdict``
that credits nothing and is recorded for the operator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from smmpanel.errors import Refused
from smmpanel.money import SCALE, Units, format_amount

CENT: Units = SCALE // 100
"""0.01 in units: the smallest amount card and wallet gateways take."""

PAYMENT_LIFETIME = timedelta(hours=24)
"""How long a pending gateway payment waits for its confirmation before a late one is refused."""


class PaymentStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"

    @property
    def is_final(self) -> bool:
        return self is not PaymentStatus.PENDING


class Verdict(StrEnum):
    """What one confirmation did; every verdict but ``CREDITED`` moved no money.

    The values are stored in ``payment_events.outcome`` and shown to the operator.
    """

    CREDITED = "credited"
    NOT_FINAL = "not_final"  # the gateway still waits for the money (e.g. a bank transfer in flight)
    FAILED = "failed"  # the gateway says the payment failed or was cancelled: pending → failed
    DUPLICATE = "duplicate"  # the payment is already completed (or refunded): a replay or a retry
    NOT_PENDING = "not_pending"  # the payment already failed or was rejected
    LATE = "late"  # arrived after the payment expired
    UNKNOWN_REFERENCE = "unknown_reference"
    WRONG_AMOUNT = "wrong_amount"
    WRONG_CURRENCY = "wrong_currency"
    WRONG_PAYEE = "wrong_payee"
    REFUSED = "refused"  # the adapter refused it before any payment was looked at (bad signature …)
    IGNORED = "ignored"  # a genuine notification that is not about money arriving (another event type)


class PaymentAction(StrEnum):
    """What an operator did to a payment; stored in ``payment_events.outcome`` beside the verdicts."""

    APPROVED = "approved"
    REJECTED = "rejected"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What a gateway has verifiably said about one payment.

    ``amount`` is what the gateway says was paid, in the gateway's currency, as exact units;
    ``final`` is True only when the money is settled (a PaymentIntent ``succeeded``, a captured
    order, a confirmed invoice). ``failed`` says the gateway gave up on the payment. ``payee``
    is the account the money went to, where the gateway names one. ``raw`` is the gateway's own
    record, kept for the operator: it must be JSON-ready.
    """

    reference: str
    amount: Units
    currency: str
    final: bool
    raw: Mapping[str, Any] = field(default_factory=dict)
    payee: str | None = None
    failed: bool = False


@dataclass(frozen=True, slots=True)
class PendingFacts:
    """What the rules need to know of the payment a confirmation names."""

    status: PaymentStatus
    amount_due: Units
    currency: str
    expires_at: datetime | None


def judge(payment: PendingFacts, confirmation: Confirmation, *, payee: str | None, now: datetime) -> Verdict:
    """Does this confirmation complete this payment? ``payee`` is the account the gateway must pay.

    The order of the checks matters: a second delivery of a good confirmation is a duplicate
    (not a wrong amount); another currency or payee is reported even when the gateway says the
    payment failed; and a failure may carry any amount.
    """
    if payment.status in (PaymentStatus.COMPLETED, PaymentStatus.REFUNDED):
        return Verdict.DUPLICATE
    if payment.status is PaymentStatus.EXPIRED:
        return Verdict.LATE
    if payment.status is not PaymentStatus.PENDING:
        return Verdict.NOT_PENDING
    if confirmation.currency.upper() != payment.currency.upper():
        return Verdict.WRONG_CURRENCY
    if payee is not None and confirmation.payee != payee:
        return Verdict.WRONG_PAYEE
    if confirmation.failed:
        return Verdict.FAILED
    if confirmation.amount != payment.amount_due:
        return Verdict.WRONG_AMOUNT
    if not confirmation.final:
        return Verdict.NOT_FINAL
    if payment.expires_at is not None and now > payment.expires_at:
        return Verdict.LATE
    return Verdict.CREDITED


def percent_of(amount: Units, percent: Units) -> Units:
    """``amount × percent / 100`` rounded down; ``percent`` is an amount (``parse_amount("12.5")``)."""
    return amount * percent // (100 * SCALE)


def deposit_fee(amount: Units, fee_percent: Units) -> Units:
    """The gateway's fee on top of ``amount``, rounded up to a whole cent so every gateway can charge it."""
    exact = amount * fee_percent
    per_cent = 100 * SCALE * CENT
    return -((-exact) // per_cent) * CENT


def deposit_bonus(amount: Units, bonus_percent: Units, bonus_from: Units) -> Units:
    """The bonus a deposit of ``amount`` earns: ``bonus_percent`` of it, from ``bonus_from`` up."""
    if bonus_percent <= 0 or amount < bonus_from:
        return 0
    return percent_of(amount, bonus_percent)


def check_deposit_amount(amount: Units, minimum: Units, maximum: Units | None) -> None:
    """Refuse an amount outside the gateway's limits, with the words the customer sees."""
    if amount <= 0:
        raise Refused("Enter an amount above zero")
    if amount < minimum:
        raise Refused("The minimum for this method is %(minimum)s", minimum=format_amount(minimum))
    if maximum is not None and amount > maximum:
        raise Refused("The maximum for this method is %(maximum)s", maximum=format_amount(maximum))


def check_minor_unit(amount: Units, minor_unit: Units) -> None:
    """Refuse an amount the gateway cannot charge exactly (finer than its cents): never rounded."""
    if amount % minor_unit:
        raise Refused(
            "%(amount)s cannot be paid this way: use at most %(decimals)s decimals",
            amount=format_amount(amount),
            decimals=_decimals(minor_unit),
        )


def _decimals(minor_unit: Units) -> int:
    return len(str(SCALE // minor_unit)) - 1


def to_cents(amount: Units) -> int:
    """An amount as a count of cents, for gateways that take integers (Stripe).

    The panel keeps five decimals; an amount that is not a whole number of cents is refused,
    never rounded, so what the gateway charges is exactly what the panel credits.
    """
    cents, rest = divmod(amount, CENT)
    if rest:
        raise Refused("%(amount)s is not a whole number of cents", amount=format_amount(amount))
    return cents


def from_cents(cents: int) -> Units:
    return cents * CENT
