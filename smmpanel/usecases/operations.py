"""What the operator's probes and dashboards read: readiness and the engine's backlog."""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.clock import utcnow
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus


@dataclass(frozen=True)
class PanelGauges:
    orders_by_status: dict[str, int]
    """Every order status, with 0 for those no order has."""
    queue_depths: dict[str, int]
    """Orders per engine state (``queued``, ``sending``, ``sent``, ``attention`` …)."""
    queue_lag_seconds: float
    """How long the oldest due item (queued to send, or sent and due a sync) has waited; 0 when none."""


async def panel_gauges(db: Database) -> PanelGauges:
    now = utcnow()
    async with db.read() as repos:
        by_status = await repos.dispatch.status_counts()
        depths = await repos.dispatch.queue_depths()
        oldest = await repos.dispatch.oldest_due(now)
    lag = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    statuses = {status.value: by_status.get(status.value, 0) for status in OrderStatus}
    return PanelGauges(statuses, depths, lag)


async def database_ready(db: Database) -> bool:
    """The database answers and holds the panel's schema."""
    try:
        await db.ping()
    except Exception:  # any failure to reach or read it means "not ready"
        return False
    return True
