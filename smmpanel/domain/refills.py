"""Refills: a customer's request to top up what dropped after an order finished."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from smmpanel.domain import messages as msg
from smmpanel.domain.catalog import Service
from smmpanel.domain.orders import REFILLABLE_STATUSES, OrderStatus
from smmpanel.errors import Refused


class RefillStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    REJECTED = "Rejected"

    @property
    def is_final(self) -> bool:
        return self in (RefillStatus.COMPLETED, RefillStatus.REJECTED)


def check_refill_allowed(service: Service, status: OrderStatus, finished_at: datetime | None, now: datetime) -> None:
    """Refills exist only where the service offers them, after the order ended, inside its window."""
    if not service.refill:
        raise Refused(msg.REFILL_NOT_AVAILABLE)
    if status not in REFILLABLE_STATUSES or finished_at is None:
        raise Refused(msg.REFILL_NOT_AVAILABLE_FOR_ORDER)
    if now > finished_at + timedelta(days=service.refill_days):
        raise Refused(msg.REFILL_NOT_AVAILABLE_FOR_ORDER)


MAX_REASON = 500


def checked_reason(status: RefillStatus, reason: str) -> str | None:
    """A rejection's reason as the customer will read it (one line); only a rejection carries one."""
    text = " ".join(reason.split())
    if status is not RefillStatus.REJECTED or not text:
        return None
    if len(text) > MAX_REASON:
        raise Refused("The reason is too long (at most %(max_reason)s characters)", max_reason=MAX_REASON)
    return text


def check_refill_status_change(current: RefillStatus, new: RefillStatus) -> None:
    if current.is_final and new is not current:
        raise Refused("Refill is already %(status)s", status=current.value)
