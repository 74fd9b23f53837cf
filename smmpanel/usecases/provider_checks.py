"""The engine's periodic look at each provider's balance: the operator hears when one runs low or stops answering.

The operator is told once when a provider goes low or unreachable, and again only after it has
been back to normal: the provider's ``alert`` column remembers what was last said.
"""

from __future__ import annotations

from datetime import timedelta

from smmpanel.clock import utcnow
from smmpanel.db.provider_repositories import Provider
from smmpanel.db.unit_of_work import Database
from smmpanel.money import Units
from smmpanel.usecases import notifications
from smmpanel.usecases.reports import low_balance_threshold

LOW = "low"
UNREACHABLE = "unreachable"


async def claim_checks(db: Database, interval: float, limit: int) -> list[Provider]:
    """Providers not checked for ``interval`` seconds, marked checked now (so no other worker takes them)."""
    now = utcnow()
    async with db.write() as repos:
        ids = await repos.notify.provider_checks.claim(now - timedelta(seconds=interval), now, limit)
        found = await repos.providers.many(set(ids)) if ids else {}
    return list(found.values())


async def record_check(db: Database, provider: Provider, balance: Units | None, error: str | None) -> None:
    """What a balance check found: ``balance``, or the ``error`` that kept the provider from answering."""
    threshold = await low_balance_threshold(db)
    alert = UNREACHABLE if error is not None else LOW if balance is not None and balance < threshold else None
    now = utcnow()
    async with db.write() as repos:
        before = await repos.notify.provider_checks.swap_alert(provider.id, alert)
        if alert is not None and alert != before:
            await notifications.provider_alert(
                repos, provider.name, alert, balance=balance, threshold=threshold, error=error, now=now
            )
