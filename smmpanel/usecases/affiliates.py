"""Affiliates: referral links, commissions on referrals' deposits, payouts to the balance.

The panel's percent and minimum payout are panel settings the operator sets; a referrer
may have their own percent. A commission is earned in the deposit's completion transaction
(``earn_commission``) on the deposit itself, never on its bonuses, and taken back in the
refund's transaction (``take_back_commission``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from smmpanel.clock import utcnow
from smmpanel.db.affiliate_repositories import Affiliate, Commission, Payout, Referral
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain import affiliates as rules
from smmpanel.domain.affiliates import CommissionKind, CommissionStatus
from smmpanel.domain.ledger import EntryKind
from smmpanel.errors import NotFound
from smmpanel.money import SCALE, Units, format_amount, parse_amount
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.money_moves import post_entry

if TYPE_CHECKING:  # payment_steps lists this module's steps, so it is imported only for the type
    from smmpanel.usecases.payment_steps import Settled

PERCENT_SETTING = "affiliate_percent"
MINIMUM_SETTING = "affiliate_minimum_payout"
DEFAULT_PERCENT: Units = 0
"""Off until the operator sets a percent: a panel does not promise money it never chose to pay."""
DEFAULT_MINIMUM: Units = 10 * SCALE
LIST_LIMIT = 200


@dataclass(frozen=True)
class Terms:
    percent: Units
    minimum: Units


@dataclass(frozen=True)
class AffiliateView:
    """What a customer's Affiliates page shows."""

    code: str
    percent: Units
    minimum: Units
    referrals: int
    pending: Units
    paid: Units
    commissions: list[Commission]


@dataclass(frozen=True)
class Overview:
    """What the operator's Affiliates page shows."""

    terms: Terms
    referrals: list[Referral]
    commissions: list[Commission]
    payouts: list[Payout]


async def _terms(repos: Repositories) -> Terms:
    percent = await repos.settings.get(PERCENT_SETTING)
    minimum = await repos.settings.get(MINIMUM_SETTING)
    return Terms(
        DEFAULT_PERCENT if percent is None else parse_amount(percent),
        DEFAULT_MINIMUM if minimum is None else parse_amount(minimum),
    )


async def terms(db: Database) -> Terms:
    async with db.read() as repos:
        return await _terms(repos)


async def set_terms(db: Database, percent: Units, minimum: Units, *, audit: Audit | None = None) -> None:
    """The panel's commission percent (of each referral's deposit) and the smallest payout."""
    rules.check_percent(percent)
    rules.check_minimum(minimum)
    async with db.write() as repos:
        before = await _terms(repos)
        await repos.settings.put(PERCENT_SETTING, format_amount(percent))
        await repos.settings.put(MINIMUM_SETTING, format_amount(minimum))
        if before != Terms(percent, minimum):
            await audited(
                repos, audit, "setting.update", "affiliate terms", _facts(before), _facts(Terms(percent, minimum))
            )


def _facts(terms: Terms) -> dict[str, object]:
    return {"percent": format_amount(terms.percent), "minimum_payout": format_amount(terms.minimum)}


async def _affiliate(repos: Repositories, user_id: int) -> Affiliate:
    """The customer's referral code, made the first time it is asked for."""
    affiliate = await repos.affiliates.of_user(user_id)
    if affiliate is None:
        await repos.affiliates.add(user_id, rules.new_referral_code(), utcnow())
        affiliate = await repos.affiliates.of_user(user_id)
        assert affiliate is not None
    return affiliate


async def affiliate_view(db: Database, user_id: int) -> AffiliateView:
    """The customer's link and earnings; the first visit makes their referral code."""
    async with db.read() as repos:
        affiliate = await repos.affiliates.of_user(user_id)
    if affiliate is None:
        try:
            async with db.write() as repos:
                await _affiliate(repos, user_id)
        except IntegrityError:  # the same customer's other page load made it a moment ago
            pass
    async with db.read() as repos:
        affiliate = await repos.affiliates.of_user(user_id)
        assert affiliate is not None
        panel = await _terms(repos)
        totals = await repos.affiliates.totals(user_id)
        return AffiliateView(
            code=affiliate.code,
            percent=panel.percent if affiliate.percent is None else affiliate.percent,
            minimum=panel.minimum,
            referrals=await repos.affiliates.referral_count(user_id),
            pending=totals.pending,
            paid=totals.paid,
            commissions=await repos.affiliates.commissions(referrer_id=user_id, limit=LIST_LIMIT),
        )


async def tie_referral(repos: Repositories, user_id: int, code: str) -> None:
    """At signup: tie the new customer to the owner of ``code``; an unknown code ties nothing.

    A stale or mistyped link must not stop anyone from signing up, so it is ignored.
    """
    code = code.strip()
    if not rules.looks_like_code(code):
        return
    referrer = await repos.affiliates.by_code(code)
    if referrer is not None:
        await repos.affiliates.tie(user_id, referrer.user_id)


async def earn_commission(repos: Repositories, settled: Settled) -> None:
    """A referral's deposit completed: record the referrer's pending commission on it.

    A step of ``payment_steps.ON_COMPLETED``, inside the completion transaction. The percent
    is the referrer's own or else the panel's, taken now and kept on the commission; it
    applies to the deposit (what the top-up credited), never to a bonus. The unique
    (payment, kind) pair makes a deposit earn at most once.
    """
    payment = settled.payment
    referrer_id = await repos.affiliates.referrer_of(payment.user_id)
    if referrer_id is None:
        return
    affiliate = await repos.affiliates.of_user(referrer_id)
    percent = (await _terms(repos)).percent if affiliate is None or affiliate.percent is None else affiliate.percent
    amount = rules.commission_on(payment.amount, percent)
    if amount > 0:
        await repos.affiliates.add_commission(
            referrer_id=referrer_id,
            referred_id=payment.user_id,
            payment_id=payment.id,
            kind=CommissionKind.EARNED,
            deposit=payment.amount,
            percent=percent,
            amount=amount,
            now=settled.now,
        )


async def take_back_commission(repos: Repositories, settled: Settled) -> None:
    """A deposit was refunded: take back the commission it earned (a step of ``ON_REFUNDED``).

    Still pending: the commission is reversed. Already paid out: a negative commission of the
    same amount is recorded, which offsets the referrer's future commissions; the referrer's
    balance is never touched, so it can never go negative.
    """
    earned = await repos.affiliates.earned_on(settled.payment.id)
    if earned is None or earned.status is CommissionStatus.REVERSED:
        return
    if earned.status is CommissionStatus.PENDING and await repos.affiliates.reverse(earned.id, settled.now):
        return
    await repos.affiliates.add_commission(  # paid out, perhaps by a payout a moment ago
        referrer_id=earned.referrer_id,
        referred_id=earned.referred_id,
        payment_id=earned.payment_id,
        kind=CommissionKind.CLAWBACK,
        deposit=earned.deposit,
        percent=earned.percent,
        amount=-earned.amount,
        now=settled.now,
    )


async def pay_out(db: Database, user_id: int) -> Units:
    """Move every pending commission of a referrer to their balance, as one ledger entry.

    Refused below the minimum payout. The commissions are taken by one conditional update,
    so of several payouts at once one pays and the others find nothing pending.
    """
    now = utcnow()
    async with db.write() as repos:
        minimum = (await _terms(repos)).minimum
        taken = await repos.affiliates.take_pending(user_id, now)
        total = sum(amount for _, amount in taken)
        rules.check_payout(total, minimum)  # refusing rolls the taking back
        payout_id = await repos.affiliates.add_payout(user_id, total, now)
        await repos.affiliates.set_payout([commission_id for commission_id, _ in taken], payout_id)
        note = f"affiliate payout #{payout_id}"
        await post_entry(repos, user_id=user_id, kind=EntryKind.AFFILIATE_PAYOUT, amount=total, now=now, note=note)
    return total


async def overview(db: Database) -> Overview:
    async with db.read() as repos:
        return Overview(
            terms=await _terms(repos),
            referrals=await repos.affiliates.referrals(LIST_LIMIT),
            commissions=await repos.affiliates.commissions(referrer_id=None, limit=LIST_LIMIT),
            payouts=await repos.affiliates.payouts(LIST_LIMIT),
        )


async def set_referrer_percent(
    db: Database, username: str, percent: Units | None, *, audit: Audit | None = None
) -> None:
    """A referrer's own percent in place of the panel's (None: back to the panel's)."""
    if percent is not None:
        rules.check_percent(percent)
    async with db.write() as repos:
        customer = await repos.users.by_username(username)
        if customer is None:
            raise NotFound(f"no user named {username!r}")
        before = (await _affiliate(repos, customer.id)).percent
        await repos.affiliates.set_percent(customer.id, percent)
        await audited(
            repos,
            audit,
            "customer.affiliate_percent",
            f"customer {username}",
            {"percent": None if before is None else format_amount(before)},
            {"percent": None if percent is None else format_amount(percent)},
        )
