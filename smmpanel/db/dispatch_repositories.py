"""The engine's work queues, kept in the orders and refills tables themselves.

Work is claimed with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) inside a short
transaction that also moves the claimed rows out of the queue, so any number of
worker processes can share it without a broker. On SQLite the write lock of
``BEGIN IMMEDIATE`` gives the same guarantee for the one worker it runs.

``orders.dispatch`` is the forwarding state:
``queued`` → ``claimed`` → ``sending`` → ``sent`` → ``done``, or ``attention`` / ``failed``;
``claimed`` is held by a worker that has not sent it yet (``claimed_by`` names it in
``engine_workers``; once that worker stops beating, the claim is simply queued again),
``sending`` is on the wire (a lapsed send goes to the operator: the provider may
have it);
``dripfeed`` for a parent that places one child per run, ``placed`` once it has
placed them all (it ends with them). ``next_attempt_at``
is when the row is next due: a retry, the lease of a send in flight, the next
status sync, or the next drip-feed run.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.id_lists import ids_in, ids_listed, is_postgres
from smmpanel.db.tables import engine_workers, orders, providers, refills, service_providers

QUEUED = "queued"
CLAIMED = "claimed"
SENDING = "sending"
SENT = "sent"
DONE = "done"
ATTENTION = "attention"
FAILED = "failed"
DRIPFEED = "dripfeed"
PLACED = "placed"


@dataclass(frozen=True, slots=True)
class SendClaim:
    order_id: int
    service_id: int
    provider_id: int | None
    attempts: int


@dataclass(frozen=True, slots=True)
class SyncClaim:
    order_id: int
    provider_id: int
    provider_order_id: int


@dataclass(frozen=True, slots=True)
class RefillClaim:
    refill_id: int
    provider_id: int
    provider_order_id: int
    provider_refill_id: int | None


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def _bound(name: str, column: sa.Column[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=column.type)


# The two writes of every send, built once: a forwarding worker runs them hundreds of times a
# second, and building a statement costs about what running it does.


@functools.cache
def _start_sends(postgres: bool) -> sa.Update:
    return (
        orders.update()
        .where(
            ids_listed(orders.c.id, "order_ids", postgres=postgres),
            orders.c.dispatch == CLAIMED,
            orders.c.next_attempt_at == _bound("claim", orders.c.next_attempt_at),
        )
        .values(
            dispatch=SENDING,
            provider_id=_bound("to_provider", orders.c.provider_id),
            next_attempt_at=_bound("lease_until", orders.c.next_attempt_at),
            updated_at=_bound("at", orders.c.updated_at),
        )
        .returning(orders.c.id)
    )


@functools.cache
def _settle_accepted(postgres: bool) -> sa.Update:
    if postgres:
        source = sa.text("SELECT * FROM unnest(:order_ids, :upstream_ids) AS answer(order_id, upstream_id)")
        source = source.bindparams(
            sa.bindparam("order_ids", type_=postgresql.ARRAY(sa.BigInteger)),
            sa.bindparam("upstream_ids", type_=postgresql.ARRAY(sa.String)),
        )
    else:
        source = sa.text(
            "SELECT json_extract(value, '$[0]') AS order_id, json_extract(value, '$[1]') AS upstream_id"
            " FROM json_each(:answers)"
        ).bindparams(sa.bindparam("answers", type_=sa.String))
    answer = source.columns(order_id=sa.BigInteger(), upstream_id=sa.String()).subquery("answer")
    return (
        orders.update()
        .where(orders.c.id == answer.c.order_id, orders.c.dispatch == SENDING)
        .values(
            dispatch=SENT,
            provider_order_id=answer.c.upstream_id,
            next_attempt_at=_bound("check_at", orders.c.next_attempt_at),
            updated_at=_bound("at", orders.c.updated_at),
        )
        .returning(orders.c.id)
    )


class Dispatch:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _claim(self, table: sa.Table, where: Any, order_by: Any, limit: int) -> list[int]:
        query = sa.select(table.c.id).where(where).order_by(*order_by).limit(limit)
        ids = (await self._conn.execute(query.with_for_update(skip_locked=True))).scalars().all()
        return [int(i) for i in ids]

    async def claim_to_send(
        self,
        now: datetime,
        lease_until: datetime,
        limit: int,
        skip_providers: set[int] | None = None,
        worker_id: int | None = None,
    ) -> list[SendClaim]:
        """Queued orders that are due, ``claimed`` by ``worker_id`` until ``lease_until``, which also
        names the claim.

        Orders bound for ``skip_providers`` (named on the order, or the service's first provider
        for an order not yet tried anywhere) are left queued.
        """
        where = sa.and_(orders.c.dispatch == QUEUED, orders.c.next_attempt_at <= now)
        if skip_providers:
            first = (
                sa.select(service_providers.c.provider_id)
                .where(service_providers.c.service_id == orders.c.service_id)
                .order_by(service_providers.c.priority, service_providers.c.id)
                .limit(1)
                .scalar_subquery()
            )
            where = sa.and_(where, sa.func.coalesce(orders.c.provider_id, first, 0).not_in(skip_providers))
        picked = (
            sa.select(orders.c.id)
            .where(where)
            .order_by(orders.c.next_attempt_at, orders.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self._conn.execute(
            orders.update()
            .where(orders.c.id.in_(picked))
            .values(dispatch=CLAIMED, next_attempt_at=lease_until, claimed_by=worker_id, updated_at=now)
            .returning(orders.c.id, orders.c.service_id, orders.c.provider_id, orders.c.attempts)
        )
        claims = [SendClaim(row.id, row.service_id, row.provider_id, row.attempts) for row in rows]
        return sorted(claims, key=lambda claim: claim.order_id)

    async def start_sends(
        self, order_ids: Sequence[int], claim: datetime, provider_id: int, lease_until: datetime, now: datetime
    ) -> set[int]:
        """Mark claimed orders ``sending`` to ``provider_id``, the last step before their HTTP calls;
        return those marked.

        Only while the claim is still ours (``claim`` is its lease): a claim that lapsed and was
        taken by another worker, or an order canceled meanwhile, is left alone and not sent.
        """
        values = {"order_ids": sorted(set(order_ids)), "claim": claim, "to_provider": provider_id}
        values |= {"lease_until": lease_until, "at": now}
        result = await self._conn.execute(_start_sends(is_postgres(self._conn)), values)
        return {int(order_id) for order_id in result.scalars()}

    async def settle_accepted(self, answers: Mapping[int, str], now: datetime, check_at: datetime) -> set[int]:
        """Orders still ``sending`` become ``sent`` with the provider's order id, their first status
        check due at ``check_at``, in one statement; return those written (the others outlived
        their lease meanwhile).

        A provider's order id that another order already has (the twin check) fails the whole
        statement with ``IntegrityError`` (the unique index of migration 0022): nothing is written.
        """
        if not answers:
            return set()
        postgres = is_postgres(self._conn)
        values: dict[str, object] = {"check_at": check_at, "at": now}
        if postgres:
            values |= {"order_ids": list(answers), "upstream_ids": list(answers.values())}
        else:
            values["answers"] = json.dumps(list(answers.items()))
        result = await self._conn.execute(_settle_accepted(postgres), values)
        return {int(order_id) for order_id in result.scalars()}

    async def release_sends(self, order_ids: list[int], now: datetime) -> int:
        """Give back claimed orders whose send never started: ``queued`` again and due at once,
        attempts unchanged. Only while still ``claimed``."""
        if not order_ids:
            return 0
        result = await self._conn.execute(
            orders.update()
            .where(ids_in(self._conn, orders.c.id, order_ids), orders.c.dispatch == CLAIMED)
            .values(dispatch=QUEUED, next_attempt_at=now, claimed_by=None, updated_at=now)
        )
        return int(result.rowcount)

    async def expire_claims(self, now: datetime, alive_since: datetime) -> int:
        """Claims of a worker that died before sending them: certainly unsent, so queued again.

        A worker is alive while it beat at or after ``alive_since``; a claim naming no worker
        ends with its lease.
        """
        alive = sa.select(engine_workers.c.id).where(engine_workers.c.beat_at >= alive_since)
        orphaned = sa.or_(
            sa.and_(orders.c.claimed_by.is_(None), orders.c.next_attempt_at < now),
            sa.and_(orders.c.claimed_by.is_not(None), orders.c.claimed_by.not_in(alive)),
        )
        result = await self._conn.execute(
            orders.update()
            .where(orders.c.dispatch == CLAIMED, orphaned)
            .values(dispatch=QUEUED, next_attempt_at=now, claimed_by=None, updated_at=now)
        )
        return int(result.rowcount)

    async def release_claims_of(self, worker_id: int, now: datetime) -> int:
        """A stopping worker gives back every order it claimed and did not start: due at once."""
        result = await self._conn.execute(
            orders.update()
            .where(orders.c.dispatch == CLAIMED, orders.c.claimed_by == worker_id)
            .values(dispatch=QUEUED, next_attempt_at=now, claimed_by=None, updated_at=now)
        )
        return int(result.rowcount)

    async def register_worker(self, host: str, pid: int, now: datetime, forget_before: datetime) -> int:
        """A starting worker's row, whose heartbeat keeps its claims; rows silent since
        ``forget_before`` (long dead, holding nothing) are removed on the way."""
        await self._conn.execute(engine_workers.delete().where(engine_workers.c.beat_at < forget_before))
        result = await self._conn.execute(
            engine_workers.insert()
            .values(host=host[:255], pid=pid, started_at=now, beat_at=now)
            .returning(engine_workers.c.id)
        )
        return int(result.scalar_one())

    async def beat(self, worker_id: int, now: datetime) -> None:
        await self._conn.execute(engine_workers.update().where(engine_workers.c.id == worker_id).values(beat_at=now))

    async def unregister_worker(self, worker_id: int) -> None:
        await self._conn.execute(engine_workers.delete().where(engine_workers.c.id == worker_id))

    async def expire_sends(self, now: datetime, reason: str) -> list[int]:
        """Sends whose lease ran out: their worker died, so the provider may or may not have the order."""
        ids = await self._claim(
            orders,
            sa.and_(orders.c.dispatch == SENDING, orders.c.next_attempt_at < now),
            (orders.c.id,),
            1000,
        )
        if ids:
            await self._conn.execute(
                orders.update()
                .where(ids_in(self._conn, orders.c.id, ids))
                .values(dispatch=ATTENTION, attention_reason=reason, next_attempt_at=None, updated_at=now)
            )
        return ids

    async def settle_send(self, order_id: int, values: dict[str, Any], now: datetime) -> bool:
        """Record a send's outcome, only if the order is still ours (``sending``)."""
        result = await self._conn.execute(
            orders.update()
            .where(orders.c.id == order_id, orders.c.dispatch == SENDING)
            .values(**values, updated_at=now)
        )
        return result.rowcount == 1

    async def claim_to_sync(
        self, now: datetime, next_due: datetime, limit: int, skip_providers: set[int] | None = None
    ) -> list[SyncClaim]:
        """Forwarded orders due for a status check, the longest-unchecked first, none of ``skip_providers``."""
        where = sa.and_(orders.c.dispatch == SENT, orders.c.next_attempt_at <= now)
        if skip_providers:
            where = sa.and_(where, orders.c.provider_id.not_in(skip_providers))
        ids = await self._claim(orders, where, (orders.c.next_attempt_at, orders.c.id), limit)
        if not ids:
            return []
        await self._conn.execute(
            orders.update().where(ids_in(self._conn, orders.c.id, ids)).values(next_attempt_at=next_due)
        )
        rows = await self._conn.execute(
            sa.select(orders.c.id, orders.c.provider_id, orders.c.provider_order_id).where(
                ids_in(self._conn, orders.c.id, ids)
            )
        )
        return [
            SyncClaim(row.id, row.provider_id, int(row.provider_order_id))
            for row in rows
            if row.provider_id is not None and _int_or_none(row.provider_order_id) is not None
        ]

    async def claim_drip_feeds(self, now: datetime, limit: int) -> list[int]:
        return await self._claim(
            orders,
            sa.and_(orders.c.dispatch == DRIPFEED, orders.c.next_attempt_at <= now),
            (orders.c.next_attempt_at, orders.c.id),
            limit,
        )

    async def claim_cancels(self, now: datetime, limit: int) -> list[SyncClaim]:
        """Cancel requests of orders the provider has, marked ``sent`` as they are claimed."""
        ids = await self._claim(
            orders, sa.and_(orders.c.cancel_state == QUEUED, orders.c.dispatch == SENT), (orders.c.id,), limit
        )
        if not ids:
            return []
        await self._conn.execute(
            orders.update().where(ids_in(self._conn, orders.c.id, ids)).values(cancel_state=SENT, updated_at=now)
        )
        rows = await self._conn.execute(
            sa.select(orders.c.id, orders.c.provider_id, orders.c.provider_order_id).where(
                ids_in(self._conn, orders.c.id, ids)
            )
        )
        return [
            SyncClaim(row.id, row.provider_id, int(row.provider_order_id))
            for row in rows
            if row.provider_id is not None and _int_or_none(row.provider_order_id) is not None
        ]

    async def claim_refills(self, state: str, now: datetime, due_before: datetime, limit: int) -> list[RefillClaim]:
        """Refills to forward (``queued``) or to check (``sent``), stamped so others pass them by."""
        where = sa.and_(
            refills.c.dispatch == state,
            sa.or_(refills.c.synced_at.is_(None), refills.c.synced_at <= due_before),
        )
        ids = await self._claim(refills, where, (sa.nulls_first(refills.c.synced_at), refills.c.id), limit)
        if not ids:
            return []
        await self._conn.execute(refills.update().where(ids_in(self._conn, refills.c.id, ids)).values(synced_at=now))
        rows = await self._conn.execute(
            sa.select(refills.c.id, refills.c.provider_refill_id, orders.c.provider_id, orders.c.provider_order_id)
            .join(orders, orders.c.id == refills.c.order_id)
            .where(ids_in(self._conn, refills.c.id, ids))
        )
        return [
            RefillClaim(row.id, row.provider_id, int(row.provider_order_id), _int_or_none(row.provider_refill_id))
            for row in rows
            if row.provider_id is not None and _int_or_none(row.provider_order_id) is not None
        ]

    async def wake_waiting(self, provider_id: int, now: datetime) -> int:
        """The provider answers again: every order waiting out its outage is due at once."""
        result = await self._conn.execute(
            orders.update()
            .where(orders.c.dispatch == QUEUED, orders.c.provider_id == provider_id, orders.c.next_attempt_at > now)
            .values(next_attempt_at=now, updated_at=now)
        )
        return int(result.rowcount)

    async def waiting_for_down_providers(self) -> dict[int, int]:
        """How many queued orders wait for each provider that is down."""
        rows = await self._conn.execute(
            sa.select(orders.c.provider_id, sa.func.count())
            .join(providers, providers.c.id == orders.c.provider_id)
            .where(orders.c.dispatch == QUEUED, providers.c.down_since.is_not(None))
            .group_by(orders.c.provider_id)
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def claim_waiting(self, provider_id: int, limit: int) -> list[int]:
        """Queued orders waiting for the provider, locked (those being claimed are passed by)."""
        where = sa.and_(orders.c.dispatch == QUEUED, orders.c.provider_id == provider_id)
        return await self._claim(orders, where, (orders.c.id,), limit)

    async def set_refill(self, refill_id: int, values: dict[str, Any], now: datetime) -> None:
        await self._conn.execute(refills.update().where(refills.c.id == refill_id).values(**values, updated_at=now))

    async def oldest_due(self, now: datetime) -> datetime | None:
        """When the longest-waiting due item became due: a queued send or a sent order's sync."""
        query = sa.select(sa.func.min(orders.c.next_attempt_at)).where(
            orders.c.dispatch.in_((QUEUED, SENT)), orders.c.next_attempt_at <= now
        )
        found: datetime | None = (await self._conn.execute(query)).scalar_one()
        return found
