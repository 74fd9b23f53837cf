"""Money in: start a payment at a gateway, and credit it exactly once when it is confirmed.

``start_payment`` writes the pending payment, then asks the gateway (outside any transaction,
the gateway may be slow), then records the gateway's reference. ``receive`` hands a webhook or
a return to the gateway's adapter for verification, and ``confirm`` applies the rules of
``smmpanel.domain.payments.judge`` in one transaction: the conditional update
``pending → completed``, the top-up entry and the ``payment_steps.ON_COMPLETED`` steps (the
deposit bonus …) commit together or not at all. Whatever arrives twice, late, out of order or
for an unknown reference credits nothing and is recorded as a payment event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from smmpanel.clock import utcnow
from smmpanel.db.payment_repositories import GatewayRecord, Payment
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.ledger import EntryKind
from smmpanel.domain.payments import (
    PAYMENT_LIFETIME,
    Confirmation,
    PaymentStatus,
    Verdict,
    check_deposit_amount,
    check_minor_unit,
    deposit_fee,
    judge,
)
from smmpanel.errors import NotFound, Refused
from smmpanel.gateways.base import (
    ConfirmationRefused,
    Gateway,
    GatewaySetup,
    Ignored,
    Incoming,
    PaymentRequest,
    Started,
    Unavailable,
    WebhookAnswer,
)
from smmpanel.gateways.registry import build
from smmpanel.money import format_amount
from smmpanel.usecases import notifications
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.money_moves import post_entry
from smmpanel.usecases.payment_steps import ON_COMPLETED, Settled

MAX_RAW_BYTES = 16_384
"""How much of a refused callback's body is kept for the operator."""

FAILED_NOTE = "The payment did not go through at the payment provider"
"""What the customer reads on a payment its gateway reports failed."""


def webhook_path(gateway_name: str) -> str:
    """The path on this panel that the operator registers at the gateway."""
    return f"/payments/webhook/{gateway_name}"


def return_path(payment_id: int) -> str:
    """The customer's page of one payment, where gateways send them back."""
    return f"/funds/payments/{payment_id}"


@dataclass(frozen=True, slots=True)
class PaymentContext:
    """Where this panel is reached from outside, and its currency (``Settings.currency``)."""

    base_url: str
    currency: str
    http_timeout: float = 30.0

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


@dataclass(frozen=True, slots=True)
class Checkout:
    """A payment just started: where the customer goes next is in ``started``."""

    payment: Payment
    started: Started
    url: str
    """Where the customer pays: the gateway's page, or this panel's page of the payment."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What one incoming confirmation did, and the HTTP answer its gateway expects."""

    verdict: Verdict
    payment: Payment | None
    answer: WebhookAnswer


def adapter_for(gateway: GatewayRecord, context: PaymentContext) -> Gateway:
    options = {str(key): str(value) for key, value in gateway.config.items()}
    return build(gateway.kind, GatewaySetup(gateway.name, options, context.currency, context.http_timeout))


async def _gateway(repos: Repositories, name: str) -> GatewayRecord:
    gateway = await repos.gateways.by_name(name)
    if gateway is None:
        raise NotFound(f"no payment gateway {name!r}")
    return gateway


async def start_payment(
    db: Database,
    context: PaymentContext,
    *,
    user_id: int,
    gateway_name: str,
    amount: int,
    payer_reference: str = "",
    audit: Audit | None = None,
) -> Checkout:
    """A pending payment of ``amount`` (what the balance will receive) through an enabled gateway.

    Refused (with the customer's words) for a disabled gateway, an amount outside its limits,
    or one the gateway cannot take. A gateway that cannot be reached leaves the payment failed.
    """
    now = utcnow()
    async with db.read() as repos:
        gateway = await _gateway(repos, gateway_name)
        customer = await repos.users.by_id(user_id)
    if not gateway.enabled or customer is None:
        raise Refused("This payment method is not available")
    check_deposit_amount(amount, gateway.min_amount, gateway.max_amount)
    adapter = adapter_for(gateway, context)
    fee = deposit_fee(amount, gateway.fee_percent)
    check_minor_unit(amount + fee, adapter.minor_unit)
    values: dict[str, Any] = {
        "user_id": user_id,
        "gateway_id": gateway.id,
        "amount": amount,
        "fee": fee,
        "currency": context.currency,
        "status": PaymentStatus.PENDING.value,
        "expires_at": None if adapter.needs_review else now + PAYMENT_LIFETIME,
    }

    def request(payment_id: int) -> PaymentRequest:
        return PaymentRequest(
            payment_id=payment_id,
            amount=amount + fee,
            currency=context.currency,
            customer=customer.username,
            description=f"Balance top-up #{payment_id} for {customer.username}",
            return_url=context.url(return_path(payment_id)),
            webhook_url=context.url(webhook_path(gateway.name)),
            payer_reference=payer_reference,
        )

    facts = {"customer": customer.username, "gateway": gateway.name, "amount": format_amount(amount)}
    if adapter.needs_review:
        started = await adapter.start(request(0))
        payment_id = await _add_reviewed(db, gateway, values, started.reference, now)
    else:
        async with db.write() as repos:
            payment_id = await repos.payments.add(values, now)
            await audited(repos, audit, "payment.create", f"payment {payment_id}", None, facts)
        started = await _start_at_gateway(db, adapter, request(payment_id), payment_id)
    async with db.read() as repos:
        payment = await repos.payments.get(payment_id)
    assert payment is not None
    url = (
        started.redirect_url
        if started.redirect_url and not started.form_fields
        else context.url(return_path(payment_id))
    )
    return Checkout(payment, started, url)


async def _add_reviewed(
    db: Database, gateway: GatewayRecord, values: dict[str, Any], reference: str, now: datetime
) -> int:
    """A payment that waits for the operator, under the customer's own reference."""
    taken = Refused("This transfer reference was already submitted")
    try:
        async with db.write() as repos:
            if await repos.payments.by_reference(gateway.id, reference) is not None:
                raise taken
            payment_id = await repos.payments.add({**values, "reference": reference}, now)
            await notifications.deposit_to_review(repos, values["user_id"], values["amount"], reference, now)
            return payment_id
    except sa.exc.IntegrityError:  # the same reference submitted at the same moment
        raise taken from None


async def _start_at_gateway(db: Database, adapter: Gateway, request: PaymentRequest, payment_id: int) -> Started:
    try:
        started = await adapter.start(request)
    except (Unavailable, Refused) as error:
        async with db.write() as repos:
            await repos.payments.move(payment_id, PaymentStatus.PENDING, PaymentStatus.FAILED, str(error), utcnow())
        if isinstance(error, Refused):
            raise
        raise Refused("The payment method is not answering; please try again later") from error
    async with db.write() as repos:
        await repos.payments.set_reference(payment_id, started.reference, utcnow(), checkout_of(started))
    return started


async def submit_in_page(
    db: Database, context: PaymentContext, *, user_id: int, payment_id: int, fields: Mapping[str, str]
) -> Mapping[str, str]:
    """Hand what the payment page's script produced (a card token) to the payment's gateway.

    Only the customer's own pending payment; nothing is credited here, whatever the gateway
    answers: the money is believed only from its verified confirmation.
    """
    async with db.read() as repos:
        payment = await repos.payments.get(payment_id)
        gateway = None if payment is None else await repos.gateways.get(payment.gateway_id)
    if payment is None or gateway is None or payment.user_id != user_id:
        raise NotFound(f"no payment {payment_id}")
    if payment.status is not PaymentStatus.PENDING or payment.reference is None:
        raise Refused("This payment is %(status)s", status=payment.status.value)
    return await adapter_for(gateway, context).submit(payment.reference, fields)


def checkout_of(started: Started) -> dict[str, Any]:
    """What the payment page needs to send the customer on, kept with the payment."""
    return {
        "redirect_url": started.redirect_url,
        "form_fields": dict(started.form_fields),
        "client": dict(started.client),
    }


def _raw_of(incoming: Incoming) -> dict[str, Any]:
    """A refused callback as the operator needs to see it; bodies are cut, never decoded wrongly."""
    return {
        "source": incoming.source,
        "query": dict(incoming.query),
        "body": incoming.body[:MAX_RAW_BYTES].decode("utf-8", "replace"),
    }


async def receive(db: Database, context: PaymentContext, gateway_name: str, incoming: Incoming) -> Receipt:
    """Verify a webhook or return through the gateway's adapter, then ``confirm`` it.

    Refusals (bad signature …) and ignored notifications are recorded as events too.
    """
    async with db.read() as repos:
        gateway = await _gateway(repos, gateway_name)
    adapter = adapter_for(gateway, context)
    try:
        confirmation = await adapter.verify(incoming)
    except (ConfirmationRefused, Ignored, Unavailable) as error:
        verdict = Verdict.IGNORED if isinstance(error, Ignored) else Verdict.REFUSED
        await _record(db, gateway.id, None, verdict, str(error), None, None, _raw_of(incoming))
        if isinstance(error, Unavailable):
            return Receipt(verdict, None, WebhookAnswer(503, "try again later"))
        return Receipt(verdict, None, adapter.answer(verdict is Verdict.IGNORED))
    verdict, payment = await confirm(db, gateway.id, confirmation, payee=adapter.payee)
    return Receipt(verdict, payment, adapter.answer(True))


async def confirm(
    db: Database, gateway_id: int, confirmation: Confirmation, *, payee: str | None, now: datetime | None = None
) -> tuple[Verdict, Payment | None]:
    """Credit the payment ``confirmation`` names, once; whatever else it is, record it.

    Idempotent: of any number of deliveries of one confirmation, at once or one after another,
    one credits and the others are recorded as duplicates.
    """
    now = now or utcnow()
    raw = dict(confirmation.raw)
    async with db.write() as repos:
        payment = await repos.payments.by_reference(gateway_id, confirmation.reference)
        if payment is None:
            reason = f"no payment with reference {confirmation.reference!r}"
            await add_event(repos, gateway_id, None, Verdict.UNKNOWN_REFERENCE, reason, confirmation, raw, now)
            return Verdict.UNKNOWN_REFERENCE, None
        verdict = judge(payment.facts(), confirmation, payee=payee, now=now)
        if verdict is Verdict.CREDITED and not await complete_payment(repos, payment, confirmation.amount, raw, now):
            verdict = Verdict.DUPLICATE  # a concurrent delivery completed it first
        elif verdict is Verdict.FAILED:
            await repos.payments.move(payment.id, PaymentStatus.PENDING, PaymentStatus.FAILED, FAILED_NOTE, now)
        elif verdict is Verdict.LATE:
            await repos.payments.move(payment.id, PaymentStatus.PENDING, PaymentStatus.EXPIRED, None, now)
        reason = _reason(verdict, payment, confirmation)
        await add_event(repos, gateway_id, payment.id, verdict, reason, confirmation, raw, now)
        return verdict, await repos.payments.get(payment.id)


async def complete_payment(
    repos: Repositories, payment: Payment, confirmed: int, raw: dict[str, Any], now: datetime
) -> bool:
    """The completion transaction: status, top-up entry, then every ``ON_COMPLETED`` step.

    False (and nothing written) when the payment was no longer pending.
    """
    if not await repos.payments.complete(payment.id, confirmed, raw, now):
        return False
    gateway = await repos.gateways.get(payment.gateway_id)
    assert gateway is not None
    note = f"payment #{payment.id} via {gateway.name}"
    await post_entry(repos, user_id=payment.user_id, kind=EntryKind.TOPUP, amount=payment.amount, now=now, note=note)
    settled = Settled(payment, gateway, now)
    for step in ON_COMPLETED:
        await step(repos, settled)
    return True


def _reason(verdict: Verdict, payment: Payment, confirmation: Confirmation) -> str:
    due, said = format_amount(payment.amount_due), format_amount(confirmation.amount)
    reasons = {
        Verdict.CREDITED: f"credited {format_amount(payment.amount)}",
        Verdict.NOT_FINAL: "the gateway has not settled the payment yet",
        Verdict.FAILED: "the gateway reports the payment failed",
        Verdict.DUPLICATE: f"already {payment.status.value}: credited nothing more",
        Verdict.NOT_PENDING: f"the payment is {payment.status.value}",
        Verdict.LATE: "arrived after the payment expired",
        Verdict.WRONG_AMOUNT: f"confirmed {said}, expected {due}",
        Verdict.WRONG_CURRENCY: f"confirmed in {confirmation.currency}, expected {payment.currency}",
        Verdict.WRONG_PAYEE: f"paid to {confirmation.payee!r}, not this gateway's account",
    }
    return reasons.get(verdict, verdict.value)


async def add_event(
    repos: Repositories,
    gateway_id: int | None,
    payment_id: int | None,
    outcome: str,
    reason: str,
    confirmation: Confirmation | None,
    raw: Mapping[str, Any] | None,
    now: datetime,
) -> None:
    await repos.payment_events.add(
        gateway_id=gateway_id,
        payment_id=payment_id,
        outcome=outcome,
        reason=reason,
        reference=None if confirmation is None else confirmation.reference,
        amount=None if confirmation is None else confirmation.amount,
        raw=None if raw is None else dict(raw),
        now=now,
    )


async def _record(
    db: Database,
    gateway_id: int | None,
    payment_id: int | None,
    outcome: str,
    reason: str,
    confirmation: Confirmation | None,
    now: datetime | None,
    raw: Mapping[str, Any] | None,
) -> None:
    async with db.write() as repos:
        await add_event(repos, gateway_id, payment_id, outcome, reason, confirmation, raw, now or utcnow())
