"""Upstream fulfilment: what the engine records after each exchange with a provider.

Every function here is one transaction. Sending is at most once: an order is
marked ``sending`` and committed just before the HTTP call (``start_send``),
and whatever the provider answered is recorded only while the order is still
``sending``. When nobody can know whether the provider created the order, the
order goes to the operator's attention list instead of being sent again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from smmpanel import metrics
from smmpanel.clock import utcnow
from smmpanel.db.catalog_upkeep_repositories import ProviderCatalog
from smmpanel.db.dispatch_repositories import (
    ATTENTION,
    CLAIMED,
    DRIPFEED,
    FAILED,
    PLACED,
    QUEUED,
    SENDING,
    SENT,
    SyncClaim,
)
from smmpanel.db.provider_repositories import Provider, ServiceLink
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.durations import format_duration
from smmpanel.domain.orders import Order, OrderStatus
from smmpanel.domain.upstream import clamp_remains, upstream_params
from smmpanel.errors import NotFound, Refused
from smmpanel.money import Units, format_amount
from smmpanel.providers.apiv2_client import UpstreamError, UpstreamOrderStatus, UpstreamUnreachable
from smmpanel.usecases import notifications
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.loss_guard import Choice, choose_link
from smmpanel.usecases.orders import finish_order, refresh_drip_feed
from smmpanel.usecases.upstream_subscriptions import follow_subscription

log = logging.getLogger("smmpanel.engine")


@dataclass(frozen=True)
class SendPlan:
    """One order, the provider it goes to, and the exact ``add`` parameters."""

    order: Order
    provider: Provider
    link: ServiceLink
    params: dict[str, str]


def _next_link(links: list[ServiceLink], current: int | None) -> ServiceLink | None:
    """The provider after ``current`` in order of preference (the first when there is none)."""
    ids = [link.provider_id for link in links]
    if current not in ids:
        return links[0] if links else None
    position = ids.index(current) + 1
    return links[position] if position < len(links) else None


async def _locked(repos: Repositories, order_id: int) -> Order:
    order = await repos.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


async def plan_send(db: Database, order_id: int) -> SendPlan | None:
    """What to send for a claimed order; None when it has no provider left (it is failed here)."""
    plans = await plan_sends(db, [order_id])
    return plans[0] if plans else None


async def plan_sends(db: Database, order_ids: Sequence[int]) -> list[SendPlan]:
    """What to send for claimed orders, read in one transaction whatever their number.

    An order with no provider left is failed here, one every provider would serve at a loss is
    held for the operator; neither is in the answer.
    """
    async with db.read() as repos:
        found = await repos.orders.many(order_ids)
        claimed = [found[i] for i in sorted(found) if found[i].dispatch == CLAIMED]
        services = await repos.services.many({order.service_id for order in claimed})
        links = {service_id: await repos.links.of_service(service_id) for service_id in services}
        provider_ids = {link.provider_id for service_links in links.values() for link in service_links}
        rates = await repos.upkeep.providers.many(provider_ids)
        known = await repos.providers.many(provider_ids)
        choices: list[tuple[Order, Choice | None]] = []
        for order in claimed:
            if order.service_id not in services:
                continue
            choices.append((order, await _choose(repos, order, links[order.service_id], rates)))
    plans = []
    for order, choice in choices:
        if choice is not None and choice.reason is not None:
            await hold_at_loss(db, order.id, choice.reason)
            continue
        link = choice.link if choice else None
        provider = known.get(link.provider_id) if link else None
        if link is None or provider is None:
            await fail_send(db, order.id, "the service has no provider")
            continue
        if choice is not None and choice.below_cost and choice.cost is not None:
            await flag_below_cost(db, order.id, link.provider_id, choice.cost)
        kind = services[order.service_id].type
        params = upstream_params(kind, link.provider_service_id, order.link, order.quantity, order.details)
        plans.append(SendPlan(order, provider, link, params))
    return plans


async def _choose(
    repos: Repositories, order: Order, links: list[ServiceLink], rates: Mapping[int, ProviderCatalog]
) -> Choice | None:
    """The link the order goes to: the one it names, else the service's first, checked for a loss."""
    known = [link.provider_id for link in links]
    link = links[known.index(order.provider_id)] if order.provider_id in known else _next_link(links, None)
    return await choose_link(repos, order, links, link, rates) if link else None


async def start_sends(db: Database, plans: Sequence[SendPlan], claim: datetime, lease_until: datetime) -> set[int]:
    """Mark orders ``sending`` just before their HTTP calls, in one transaction; return those still
    ours to send (the others' claims lapsed, or they were canceled meanwhile).

    Naming the provider here makes an interrupted send show where it went. Orders that a
    worker claimed but had not started are not on the wire: when the worker dies they are
    queued again, not handed to the operator.
    """
    by_provider: defaultdict[int, list[int]] = defaultdict(list)
    for plan in plans:
        by_provider[plan.provider.id].append(plan.order.id)
    started: set[int] = set()
    # For one provider (the engine's every batch) the one statement commits on its own; for
    # several they are one transaction, so that a failed batch has marked none of its orders.
    async with db.write_each() if len(by_provider) == 1 else db.write() as repos:
        for provider_id, order_ids in by_provider.items():
            started |= await repos.dispatch.start_sends(order_ids, claim, provider_id, lease_until, utcnow())
    return started


async def start_send(db: Database, plan: SendPlan, claim: datetime, lease_until: datetime) -> bool:
    """``start_sends`` of one order: False when it is no longer ours to send."""
    return plan.order.id in await start_sends(db, [plan], claim, lease_until)


async def send_accepted(db: Database, plan: SendPlan, provider_order_id: int) -> None:
    await sends_accepted(db, [(plan, provider_order_id)])


async def sends_accepted(
    db: Database, answers: Sequence[tuple[SendPlan, int]], first_check: timedelta = timedelta(0)
) -> None:
    """Record the providers' order ids of accepted sends: ``sent``, in one statement for all of them.

    Their first status check is due ``first_check`` later (the engine's sync interval): asked
    at once, a provider only says again that the order it just accepted is pending, and at a
    thousand orders a second that is a status call and two writes of every order for nothing.

    The twin check is the database's: a provider's order id already given to another order
    fails the statement (a unique index), and then each answer is recorded on its own, the
    twin going to the attention list; it is never sent again.

    A provider known to be in trouble when the batch was planned (down, or its last call
    failed) is recorded as answering again, in the same transaction; a healthy one is not
    written at all, and then the one statement commits on its own.
    """
    now = utcnow()
    mine = {plan.order.id: str(provider_order_id) for plan, provider_order_id in answers}
    troubled = sorted({plan.provider.id for plan, _ in answers if in_trouble(plan.provider)})
    try:
        async with db.write() if troubled else db.write_each() as repos:
            settled = await repos.dispatch.settle_accepted(mine, now, now + first_check)
            for provider_id in troubled:
                await answered(repos, provider_id, now)
    except IntegrityError:
        if len(answers) == 1:
            await _twin(db, *answers[0])
            return
        for answer in answers:
            await sends_accepted(db, [answer], first_check)
        return
    for plan, provider_order_id in answers:
        if plan.order.id not in settled:
            await _accepted_late(db, plan, provider_order_id)


def in_trouble(provider: Provider) -> bool:
    """Down, or its last call failed: its next good answer must be recorded."""
    return provider.down_since is not None or provider.last_error is not None


async def _twin(db: Database, plan: SendPlan, provider_order_id: int) -> None:
    """The provider gave an order id it had already given for another order: the operator checks."""
    now = utcnow()
    async with db.write() as repos:
        twin = await repos.orders.with_upstream_id(plan.provider.id, str(provider_order_id))
        reason = f"{plan.provider.name} answered order id {provider_order_id}, which it already gave for order {twin}"
        values: dict[str, object] = {"dispatch": ATTENTION, "attention_reason": reason, "next_attempt_at": None}
        if await repos.dispatch.settle_send(plan.order.id, values, now):
            await notifications.order_needs_attention(repos, plan.order.id, reason, now)
        await answered(repos, plan.provider.id, now)


async def _accepted_late(db: Database, plan: SendPlan, provider_order_id: int) -> None:
    """The send outlived its lease and was handed to the operator: tell them what came back."""
    reason = f"{plan.provider.name} accepted it as order {provider_order_id} after the send was given up"
    values: dict[str, object] = {"provider_order_id": str(provider_order_id), "attention_reason": reason}
    try:
        async with db.write() as repos:
            await repos.orders.update(plan.order.id, values, utcnow())
    except IntegrityError:  # another order has that id: the reason says it, the id stays with the other
        async with db.write() as repos:
            await repos.orders.update(plan.order.id, {"attention_reason": f"{reason}, an id it gave before"}, utcnow())


async def answered(repos: Repositories, provider_id: int, now: datetime) -> None:
    """The provider answered: its last error is cleared, and if it was down, its waiting orders are due now."""
    if await repos.providers.record_health(provider_id, None, now):
        woken = await repos.dispatch.wake_waiting(provider_id, now)
        log.info("provider %d answers again; %d waiting orders are due now", provider_id, woken)


async def provider_answered(db: Database, provider: Provider) -> None:
    async with db.write() as repos:
        await answered(repos, provider.id, utcnow())


async def check_failed(db: Database, provider: Provider, error: UpstreamError) -> None:
    """A call other than a send failed: an unreachable provider is marked down, any other error noted."""
    async with db.write() as repos:
        if isinstance(error, UpstreamUnreachable):
            await repos.providers.mark_down(provider.id, str(error), utcnow())
        else:
            await repos.providers.record_health(provider.id, str(error), utcnow())


async def send_refused(db: Database, plan: SendPlan, reason: str) -> None:
    """The provider certainly has no order: try the next provider, or fail with a refund."""
    now = utcnow()
    async with db.write() as repos:
        await repos.providers.record_health(plan.provider.id, reason, now)
        metrics.upstream_error(plan.provider.name)
        order = await _locked(repos, plan.order.id)
        if order.dispatch != SENDING:
            return
        if not await _fail_over(repos, order, plan, reason, now):
            await cancel_unsent(repos, order, f"{plan.provider.name}: {reason}")


async def _fail_over(repos: Repositories, order: Order, plan: SendPlan, reason: str, now: datetime) -> bool:
    """Queue the order for the service's next provider, due now; False when there is none."""
    following = _next_link(await repos.links.of_service(order.service_id), plan.provider.id)
    if following is None:
        return False
    values = {
        "dispatch": QUEUED,
        "provider_id": following.provider_id,
        "attempts": 0,
        "next_attempt_at": now,
        "attention_reason": f"{plan.provider.name}: {reason}",
    }
    return await repos.dispatch.settle_send(order.id, values, now)


@dataclass(frozen=True)
class OutageRules:
    """How orders wait for a provider that cannot be reached (from the settings)."""

    retries: int
    """Tries on a provider seen up until then, before failing over to the next one."""
    backoff: timedelta
    """The wait before the first retry; doubled on each further one, up to ``longest``."""
    longest: timedelta
    limit: timedelta
    """How long orders wait out an outage with no other provider, unless the provider says otherwise."""


async def send_unreachable(db: Database, plan: SendPlan, reason: str, rules: OutageRules) -> None:
    """The request certainly never left: the provider is down, and the order waits for it.

    The customer still sees Pending. The next provider of the service takes it at once when
    the provider was already known to be down (after ``rules.retries`` tries otherwise). With
    no other provider it is retried, backing off, until the provider answers again (then every
    waiting order is due at once) or its outage outlasts the provider's limit: then it is
    canceled with a full refund, as the operator can do any time (``cancel_waiting``).
    """
    now = utcnow()
    async with db.write() as repos:
        down_since = await repos.providers.mark_down(plan.provider.id, reason, now)
        metrics.upstream_error(plan.provider.name)
        order = await _locked(repos, plan.order.id)
        if order.dispatch != SENDING:
            return
        known_down = plan.provider.down_since is not None
        if (known_down or order.attempts >= rules.retries) and await _fail_over(repos, order, plan, reason, now):
            return
        limit = rules.limit if plan.provider.outage_limit is None else timedelta(seconds=plan.provider.outage_limit)
        if now - down_since >= limit:
            longer = format_duration(int(limit.total_seconds()))
            await cancel_unsent(repos, order, f"{plan.provider.name}: unreachable for longer than {longer}: {reason}")
            return
        wait = min(rules.backoff * 2 ** min(order.attempts, 20), rules.longest)
        values = {"dispatch": QUEUED, "attempts": order.attempts + 1, "next_attempt_at": now + wait}
        await repos.dispatch.settle_send(order.id, values, now)


async def hold_at_loss(db: Database, order_id: int, reason: str) -> None:
    """Every provider would cost more than the order's charge: it waits for the operator, unsent."""
    async with db.write() as repos:
        order = await _locked(repos, order_id)
        if order.dispatch == CLAIMED:
            values = {"dispatch": ATTENTION, "attention_reason": reason, "next_attempt_at": None}
            await repos.orders.update(order_id, values, utcnow())


async def flag_below_cost(db: Database, order_id: int, provider_id: int, cost: Units) -> None:
    """The operator let this service sell below cost: the order is sent, and kept on record as such."""
    async with db.write() as repos:
        await repos.upkeep.below_cost.flag(order_id, provider_id, cost, utcnow())


async def fail_send(db: Database, order_id: int, reason: str) -> None:
    async with db.write() as repos:
        await cancel_unsent(repos, await _locked(repos, order_id), reason)


async def cancel_unsent(repos: Repositories, order: Order, reason: str) -> None:
    """Cancel an order no provider has, refunding its whole charge (once: ``finish_order``); ``order`` is locked."""
    extra = {"dispatch": FAILED, "attention_reason": reason, "next_attempt_at": None}
    await finish_order(repos, order, OrderStatus.CANCELED, order.ordered, " (no provider took it)", extra)
    if order.parent_id is not None:
        await refresh_drip_feed(repos, order.parent_id)


async def send_ambiguous(db: Database, plan: SendPlan, reason: str) -> None:
    now = utcnow()
    text = f"{plan.provider.name}: {reason}; the provider may have created the order: check there first"
    async with db.write() as repos:
        await repos.providers.record_health(plan.provider.id, reason, now)
        metrics.upstream_error(plan.provider.name)
        values = {"dispatch": ATTENTION, "attention_reason": text, "next_attempt_at": None}
        if await repos.dispatch.settle_send(plan.order.id, values, now):
            await notifications.order_needs_attention(repos, plan.order.id, text, now)


async def apply_upstream_statuses(
    db: Database, answers: list[tuple[SyncClaim, UpstreamOrderStatus | str]], provider: Provider
) -> int:
    """Bring local orders in line with what their provider reported; return how many changed.

    Unchanged orders cost one shared read and no write. The changed ones are written in
    one transaction that locks all their rows at once (in id order, before any customer's
    row, as every other path locks), not one transaction each: a round trip per order
    instead of five (see benchmarks/RESULTS.md).
    """
    async with db.read() as repos:
        current = await repos.orders.many([claim.order_id for claim, _ in answers])
        kinds = {s.id: s.type for s in (await repos.services.many({o.service_id for o in current.values()})).values()}
    reasons: dict[int, str] = {}
    moves: dict[int, tuple[UpstreamOrderStatus, int, int]] = {}
    for claim, answer in answers:
        order = current.get(claim.order_id)
        if order is None or order.status.is_final:
            continue
        if isinstance(answer, str):
            reasons[order.id] = f"{provider.name} answered {answer!r} for its order {claim.provider_order_id}"
            continue
        remains = clamp_remains(answer.remains, order.ordered, order.remains)
        start_count = order.start_count if answer.start_count is None else max(0, answer.start_count)
        same = (answer.status, remains, start_count, answer.charge) == (
            order.status,
            order.remains,
            order.start_count,
            order.upstream_charge,
        )
        if not same:
            moves[order.id] = (answer, remains, start_count)
    if not reasons and not moves:
        return 0
    async with db.write() as repos:
        locked = await repos.orders.many([*reasons, *moves], for_update=True)
        for order_id, reason in reasons.items():
            await repos.orders.update(
                order_id, {"dispatch": ATTENTION, "attention_reason": reason, "next_attempt_at": None}, utcnow()
            )
            await notifications.order_needs_attention(repos, order_id, reason, utcnow())
        now = utcnow()
        progress: list[dict[str, object]] = []
        for order_id, (answer, remains, start_count) in moves.items():
            order = locked.get(order_id)
            if order is None or order.status.is_final or order.dispatch != SENT:
                continue
            if kinds.get(order.service_id) is ServiceType.SUBSCRIPTIONS and await follow_subscription(
                repos, order, provider.id, answer, now
            ):
                continue
            if answer.status.is_final or order.parent_id is not None:
                await _finish(repos, order, answer, remains, start_count, now)
            else:  # the common case, and the whole cost of a sync: one statement for every such order
                moved = {"order_id": order_id, "status": answer.status.value, "remains": remains}
                progress.append({**moved, **_upstream(answer, start_count, now)})
        await repos.orders.update_many(progress, now)
    return len(reasons) + len(moves)


def _upstream(answer: UpstreamOrderStatus, start_count: int, now: datetime) -> dict[str, object]:
    """What a status check records besides the status and remains."""
    return {
        "start_count": start_count,
        "upstream_status": answer.status.value,
        "upstream_charge": answer.charge,
        "synced_at": now,
    }


async def _finish(
    repos: Repositories, order: Order, answer: UpstreamOrderStatus, remains: int, start_count: int, now: datetime
) -> None:
    """A move that may refund or end a drip-feed; ``order`` is its locked, unfinished row."""
    if answer.status is OrderStatus.CANCELED:
        remains = order.ordered
    elif answer.status is OrderStatus.COMPLETED:
        remains = 0
    await finish_order(repos, order, answer.status, remains, " upstream", _upstream(answer, start_count, now))
    if order.parent_id is not None:
        await refresh_drip_feed(repos, order.parent_id)


async def place_drip_feed_run(db: Database, parent_id: int) -> bool:
    """Place the next run of a drip-feed as a child order for the engine to forward."""
    now = utcnow()
    async with db.write() as repos:
        parent = await _locked(repos, parent_id)
        if parent.dispatch != DRIPFEED or parent.status.is_final or parent.runs is None:
            return False
        await repos.orders.add(
            {
                "user_id": parent.user_id,
                "service_id": parent.service_id,
                "parent_id": parent.id,
                "link": parent.link,
                "quantity": parent.quantity,
                "details": parent.details,
                "charge": 0,  # the parent paid for every run up front
                "status": OrderStatus.PENDING.value,
                "remains": parent.quantity,
                "dispatch": QUEUED,
                "next_attempt_at": now,
            },
            now,
        )
        runs_done = parent.runs_done + 1
        values: dict[str, object] = {"runs_done": runs_done, "status": OrderStatus.IN_PROGRESS.value}
        if runs_done >= parent.runs:
            values.update(dispatch=PLACED, next_attempt_at=None)
        else:
            values["next_attempt_at"] = now + timedelta(minutes=parent.interval or 1)
        await repos.orders.update(parent.id, values, now)
    return True


# --- the operator's answers to the attention list ---------------------------------


async def attention_list(db: Database, limit: int) -> list[Order]:
    async with db.read() as repos:
        return await repos.orders.in_dispatch(ATTENTION, limit)


async def _attention_order(repos: Repositories, order_id: int) -> Order:
    order = await _locked(repos, order_id)
    if order.dispatch != ATTENTION:
        raise Refused("order %(order_id)s is not waiting for attention", order_id=order_id)
    if order.status.is_final:  # finished by hand meanwhile: never send or refund it again
        raise Refused("order %(order_id)s is already %(status)s", order_id=order_id, status=order.status.value)
    return order


async def resend(db: Database, order_id: int, *, audit: Audit | None = None) -> None:
    """The operator checked: the provider does not have it. Send it again."""
    async with db.write() as repos:
        order = await _attention_order(repos, order_id)
        values = {"dispatch": QUEUED, "attempts": 0, "next_attempt_at": utcnow(), "provider_order_id": None}
        await repos.orders.update(order.id, values, utcnow())
        await audited(repos, audit, "order.resend", f"order {order_id}", None, None)


async def fail(db: Database, order_id: int, *, audit: Audit | None = None) -> None:
    """The operator gives up on an order: canceled, the whole charge back."""
    async with db.write() as repos:
        order = await _attention_order(repos, order_id)
        await cancel_unsent(repos, order, f"failed by operator ({order.attention_reason or 'no reason recorded'})")
        before = {"status": order.status.value, "refunded": format_amount(order.refunded)}
        after = {"status": OrderStatus.CANCELED.value, "refunded": format_amount(order.charge)}
        await audited(repos, audit, "order.fail", f"order {order_id}", before, after)


async def set_upstream(db: Database, order_id: int, provider_order_id: int) -> None:
    """The operator found the order at the provider: sync it from there on."""
    async with db.write() as repos:
        order = await _attention_order(repos, order_id)
        if order.provider_id is None:
            raise Refused("order %(order_id)s was never sent to a provider", order_id=order_id)
        twin = await repos.orders.with_upstream_id(order.provider_id, str(provider_order_id))
        if twin is not None and twin != order.id:
            raise Refused(
                "the provider's order %(upstream_id)s is already order %(twin)s's",
                upstream_id=provider_order_id,
                twin=twin,
            )
        values = {"dispatch": SENT, "provider_order_id": str(provider_order_id), "next_attempt_at": utcnow()}
        await repos.orders.update(order.id, values, utcnow())
