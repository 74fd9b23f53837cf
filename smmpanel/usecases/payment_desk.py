"""The operator's side of payments: review manual transfers, refund, and look everything up.

Approving a transfer goes through the same completion transaction as a gateway's webhook
(``payments._complete``), so it credits once however many operators press the button.
A refund is a negative ledger entry in the transaction that moves ``completed → refunded``;
it is refused, and nothing changes, if it would take the customer's balance below zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.clock import utcnow
from smmpanel.db.payment_repositories import GatewayRecord, Payment, PaymentEvent, PaymentSearch, PaymentTotals
from smmpanel.db.repositories import Customer, Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.ledger import EntryKind
from smmpanel.domain.payments import PaymentAction, PaymentStatus
from smmpanel.errors import NotFound, Refused
from smmpanel.gateways.registry import adapter_class, kinds
from smmpanel.money import format_amount
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.money_moves import post_entry
from smmpanel.usecases.paging import DEFAULT_SIZE, Page, keyset_page
from smmpanel.usecases.payment_steps import ON_REFUNDED, Settled
from smmpanel.usecases.payments import add_event, complete_payment

MAX_NOTE = 500


@dataclass(frozen=True)
class PaymentDetail:
    payment: Payment
    events: list[PaymentEvent]


def review_kinds() -> tuple[str, ...]:
    """The gateway kinds whose payments wait for an operator."""
    return tuple(kind for kind, cls in kinds().items() if cls.needs_review)


def _note(text: str, *, required: str | None = None) -> str:
    note = " ".join(text.split())[:MAX_NOTE]
    if required and not note:
        raise Refused(required)
    return note


async def _with_gateway(repos: Repositories, payment_id: int) -> tuple[Payment, GatewayRecord]:
    payment = await repos.payments.get(payment_id)
    gateway = None if payment is None else await repos.gateways.get(payment.gateway_id)
    if payment is None or gateway is None:
        raise NotFound(f"no payment {payment_id}")
    return payment, gateway


async def approve(db: Database, payment_id: int, *, audit: Audit) -> Payment:
    """Credit a transfer awaiting review; refused unless it is still pending."""
    now = utcnow()
    async with db.write() as repos:
        payment, gateway = await _with_gateway(repos, payment_id)
        if not adapter_class(gateway.kind).needs_review:
            raise Refused(
                "payment %(payment_id)s is confirmed by its gateway, not by an operator", payment_id=payment_id
            )
        raw = {"approved_by": audit.actor}
        if not await complete_payment(repos, payment, payment.amount_due, raw, now):
            raise Refused(
                "payment %(payment_id)s is %(status)s, not pending", payment_id=payment_id, status=payment.status.value
            )
        reason = f"approved by {audit.actor}: credited {format_amount(payment.amount)}"
        await add_event(repos, gateway.id, payment.id, PaymentAction.APPROVED, reason, None, raw, now)
        after = {"status": PaymentStatus.COMPLETED.value, "amount": format_amount(payment.amount)}
        await audited(repos, audit, "payment.approve", f"payment {payment_id}", {"status": "pending"}, after)
        done = await repos.payments.get(payment_id)
    assert done is not None
    return done


async def reject(db: Database, payment_id: int, reason: str, *, audit: Audit) -> Payment:
    """Turn down a pending payment with a reason the customer sees; nothing is credited."""
    note = _note(reason, required="Say why the deposit is rejected: the customer sees it")
    now = utcnow()
    async with db.write() as repos:
        payment = await repos.payments.get(payment_id)
        if payment is None:
            raise NotFound(f"no payment {payment_id}")
        if not await repos.payments.move(payment_id, PaymentStatus.PENDING, PaymentStatus.FAILED, note, now):
            raise Refused(
                "payment %(payment_id)s is %(status)s, not pending", payment_id=payment_id, status=payment.status.value
            )
        text = f"rejected by {audit.actor}: {note}"
        await add_event(repos, payment.gateway_id, payment.id, PaymentAction.REJECTED, text, None, None, now)
        after = {"status": PaymentStatus.FAILED.value, "reason": note}
        await audited(repos, audit, "payment.reject", f"payment {payment_id}", {"status": "pending"}, after)
        done = await repos.payments.get(payment_id)
    assert done is not None
    return done


async def refund(db: Database, payment_id: int, note: str, *, audit: Audit) -> Payment:
    """Take a completed deposit (and its bonus) back off the balance, with the operator's note.

    The money itself is returned at the gateway (its dashboard); this records it in the panel.
    """
    note = _note(note, required="Write a note for the refund")
    now = utcnow()
    async with db.write() as repos:
        payment, gateway = await _with_gateway(repos, payment_id)
        if not await repos.payments.move(payment_id, PaymentStatus.COMPLETED, PaymentStatus.REFUNDED, note, now):
            raise Refused(
                "payment %(payment_id)s is %(status)s: only a completed payment is refunded",
                payment_id=payment_id,
                status=payment.status.value,
            )
        entry_note = f"refund of payment #{payment.id}: {note}"
        short = Refused("refund refused: it would take %(username)s's balance below zero", username=payment.username)
        try:
            await post_entry(
                repos,
                user_id=payment.user_id,
                kind=EntryKind.PAYMENT_REFUND,
                amount=-payment.amount,
                now=now,
                note=entry_note,
            )
            settled = Settled(payment, gateway, now)
            for step in ON_REFUNDED:
                await step(repos, settled)
        except Refused:
            raise short from None
        text = f"refunded by {audit.actor}: {note}"
        await add_event(repos, gateway.id, payment.id, PaymentAction.REFUNDED, text, None, None, now)
        before = {"status": PaymentStatus.COMPLETED.value}
        after = {"status": PaymentStatus.REFUNDED.value, "amount": format_amount(payment.amount), "note": note}
        await audited(repos, audit, "payment.refund", f"payment {payment_id}", before, after)
        done = await repos.payments.get(payment_id)
    assert done is not None
    return done


async def payments_page(
    db: Database,
    search: PaymentSearch,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = DEFAULT_SIZE,
) -> Page[Payment]:
    async with db.read() as repos:

        async def fetch(before: int | None, after: int | None, limit: int) -> list[Payment]:
            return await repos.payments.search_page(search, before=before, after=after, limit=limit)

        return await keyset_page(fetch, lambda payment: payment.id, before=before, after=after, limit=limit)


async def payment_totals(db: Database, search: PaymentSearch) -> PaymentTotals:
    async with db.read() as repos:
        return await repos.payments.totals(search)


async def payment_detail(db: Database, payment_id: int) -> PaymentDetail:
    async with db.read() as repos:
        payment = await repos.payments.get(payment_id)
        if payment is None:
            raise NotFound(f"no payment {payment_id}")
        return PaymentDetail(payment, await repos.payment_events.of_payment(payment_id))


async def gateway_of(db: Database, payment: Payment) -> GatewayRecord:
    async with db.read() as repos:
        gateway = await repos.gateways.get(payment.gateway_id)
    assert gateway is not None  # a payment's gateway is never deleted (foreign key)
    return gateway


async def customer_named(db: Database, username: str) -> Customer | None:
    async with db.read() as repos:
        return await repos.users.by_username(username)


async def customer_payment(db: Database, user_id: int, payment_id: int) -> Payment | None:
    """One of the customer's own payments (None for anyone else's)."""
    async with db.read() as repos:
        payment = await repos.payments.get(payment_id)
    return payment if payment is not None and payment.user_id == user_id else None


async def customer_payments_page(
    db: Database, user_id: int, *, before: int | None = None, after: int | None = None, limit: int = DEFAULT_SIZE
) -> Page[Payment]:
    """The customer's own payments, newest first, with their statuses."""
    return await payments_page(db, PaymentSearch(user_id=user_id), before=before, after=after, limit=limit)
