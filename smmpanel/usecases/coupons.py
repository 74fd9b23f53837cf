"""Coupons: the operator makes them, a customer redeems one on the Funds page.

A fixed-amount coupon is credited at once, as a ledger entry of kind ``coupon``. A percent
coupon waits for the customer's next completed deposit and is paid in that deposit's
completion transaction (``pay_deposit_coupon``), also as a ``coupon`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from smmpanel.clock import utcnow
from smmpanel.db.coupon_repositories import CREDITED, WAITING, Redemption, WaitingCoupon
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain import coupons as rules
from smmpanel.domain.coupons import Coupon, CouponKind
from smmpanel.domain.ledger import EntryKind
from smmpanel.errors import NotFound, Refused
from smmpanel.money import Units, format_amount
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.money_moves import post_entry

if TYPE_CHECKING:  # payment_steps lists this module's steps, so it is imported only for the type
    from smmpanel.usecases.payment_steps import Settled

LIST_LIMIT = 200


@dataclass(frozen=True)
class Redeemed:
    """What a redemption did: ``credited`` now (a fixed amount), or a ``percent`` waiting for a deposit."""

    code: str
    kind: CouponKind
    credited: Units
    percent: Units
    balance: Units


async def create_coupon(
    db: Database,
    code: str,
    kind: CouponKind,
    value: Units,
    *,
    max_uses: int | None = None,
    expires_on: date | None = None,
    audit: Audit | None = None,
) -> Coupon:
    normalized = rules.check_new_code(code)
    rules.check_new_terms(kind, value, max_uses)
    try:
        async with db.write() as repos:
            if await repos.coupons.by_code(normalized) is not None:
                raise Refused("A coupon %(normalized)s already exists", normalized=normalized)
            await repos.coupons.add(normalized, kind, value, max_uses, expires_on, utcnow())
            coupon = await repos.coupons.by_code(normalized)
            assert coupon is not None
            await audited(repos, audit, "coupon.create", f"coupon {normalized}", None, _facts(coupon))
    except IntegrityError:  # the same code made at the same moment elsewhere
        raise Refused("A coupon %(normalized)s already exists", normalized=normalized) from None
    return coupon


def _facts(coupon: Coupon) -> dict[str, object]:
    return {
        "kind": coupon.kind.value,
        "value": format_amount(coupon.value),
        "max_uses": coupon.max_uses,
        "expires_on": None if coupon.expires_on is None else coupon.expires_on.isoformat(),
        "disabled": coupon.disabled,
    }


async def list_coupons(db: Database) -> list[Coupon]:
    async with db.read() as repos:
        return await repos.coupons.listing(LIST_LIMIT)


async def recent_redemptions(db: Database) -> list[Redemption]:
    async with db.read() as repos:
        return await repos.coupons.redemptions(LIST_LIMIT)


async def disable_coupon(db: Database, code: str, *, audit: Audit | None = None) -> None:
    """No one can redeem it any more; a percent coupon already redeemed still pays its deposit."""
    normalized = rules.normalize_code(code)
    async with db.write() as repos:
        coupon = await repos.coupons.by_code(normalized)
        if coupon is None:
            raise NotFound(f"no coupon {normalized}")
        await repos.coupons.set_disabled(coupon.id)
        await audited(repos, audit, "coupon.disable", f"coupon {normalized}", {"disabled": False}, {"disabled": True})


async def redeem_coupon(db: Database, user_id: int, code: str) -> Redeemed:
    """Redeem ``code`` for a customer, once per customer and within the coupon's limit and expiry.

    The use is counted by a conditional update and the redemption is unique per (coupon,
    customer), both in one transaction with the credit: of many redemptions at once, only
    those the limit allows go through, and a customer's second one is refused.
    """
    normalized = rules.normalize_code(code)
    if not normalized:
        raise Refused("Enter a coupon code")
    now = utcnow()
    try:
        async with db.write() as repos:
            return await _redeem(repos, user_id, normalized, now.date())
    except IntegrityError:
        # Lost a race on a unique constraint: this customer's other redemption committed first.
        async with db.read() as repos:
            coupon = await repos.coupons.by_code(normalized)
            again = coupon is not None and await repos.coupons.redeemed_by(coupon.id, user_id)
        raise Refused(rules.ALREADY_USED if again else rules.PERCENT_WAITING) from None


async def _redeem(repos: Repositories, user_id: int, code: str, today: date) -> Redeemed:
    coupon = await repos.coupons.by_code(code)
    if coupon is None:
        raise Refused(rules.UNKNOWN)
    problem = rules.redeemable_problem(coupon, today)
    if problem:
        raise Refused(problem)
    if await repos.coupons.redeemed_by(coupon.id, user_id):
        raise Refused(rules.ALREADY_USED)
    percent = coupon.kind is CouponKind.PERCENT
    if percent and await repos.coupons.waiting_of(user_id) is not None:
        raise Refused(rules.PERCENT_WAITING)
    if not await repos.coupons.take_use(coupon.id, today):
        raise Refused(rules.USED_UP)  # the last use went to someone else a moment ago
    credited = 0 if percent else coupon.value
    await repos.coupons.add_redemption(coupon.id, user_id, WAITING if percent else CREDITED, credited, utcnow())
    balance = await post_entry(
        repos, user_id=user_id, kind=EntryKind.COUPON, amount=credited, now=utcnow(), note=f"coupon {code}"
    )
    return Redeemed(code, coupon.kind, credited, coupon.value if percent else 0, balance)


async def waiting_coupon(db: Database, user_id: int) -> WaitingCoupon | None:
    """The percent coupon that the customer's next deposit will pay, shown on the Funds page."""
    async with db.read() as repos:
        return await repos.coupons.waiting_of(user_id)


async def pay_deposit_coupon(repos: Repositories, settled: Settled) -> None:
    """A deposit completed: pay the customer's waiting percent coupon on it, as its own entry.

    A step of ``payment_steps.ON_COMPLETED``: it runs inside the deposit's completion
    transaction, so the coupon is paid exactly when the deposit is, and at most once (the
    waiting redemption is claimed by a conditional update). The percent is of the deposit
    itself (what the top-up credited), never of a bonus.
    """
    payment = settled.payment
    waiting = await repos.coupons.waiting_of(payment.user_id)
    if waiting is None:
        return
    amount = rules.percent_of(payment.amount, waiting.percent)
    if await repos.coupons.apply(waiting.redemption_id, amount, payment.id, settled.now):
        note = f"coupon {waiting.code}: {format_amount(waiting.percent)}% of payment #{payment.id}"
        await post_entry(
            repos, user_id=payment.user_id, kind=EntryKind.COUPON, amount=amount, now=settled.now, note=note
        )


async def take_back_deposit_coupon(repos: Repositories, settled: Settled) -> None:
    """A refunded deposit takes back what a percent coupon paid on it (a step of ``ON_REFUNDED``).

    Like the deposit's bonus, it is refused with the refund if the balance is short. The
    coupon stays used: a refund does not hand out the code again.
    """
    payment = settled.payment
    paid = await repos.coupons.paid_on(payment.id)
    if paid is not None and paid.amount:
        note = f"coupon {paid.code} taken back: payment #{payment.id} refunded"
        await post_entry(
            repos, user_id=payment.user_id, kind=EntryKind.COUPON, amount=-paid.amount, now=settled.now, note=note
        )
