"""Refill rules: only refillable services, only finished orders, only inside the window."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.domain import messages as msg
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.domain.orders import REFILLABLE_STATUSES, OrderStatus
from smmpanel.domain.refills import RefillStatus, check_refill_allowed, check_refill_status_change
from smmpanel.errors import Refused

FINISHED = datetime(2030, 6, 1, 12, 0, 0)
TICK = timedelta(microseconds=1)


def service(**terms: object) -> Service:
    base = Service(
        id=1,
        name="Followers",
        category="Instagram",
        type=ServiceType.DEFAULT,
        rate=90_000,
        min=50,
        max=10_000,
        refill=True,
        cancel=False,
        description="",
        enabled=True,
        refill_days=30,
        deny_duplicate_link=False,
    )
    return replace(base, **terms)  # type: ignore[arg-type]


def refusal(svc: Service, status: OrderStatus, finished_at: datetime | None, now: datetime) -> str | None:
    try:
        check_refill_allowed(svc, status, finished_at, now)
    except Refused as refused:
        return refused.message
    return None


def test_refillable_statuses_are_completed_and_partial() -> None:
    assert frozenset({OrderStatus.COMPLETED, OrderStatus.PARTIAL}) == REFILLABLE_STATUSES


@pytest.mark.parametrize("status", list(OrderStatus))
def test_service_without_refill_refuses_every_order(status: OrderStatus) -> None:
    assert refusal(service(refill=False), status, FINISHED, FINISHED) == msg.REFILL_NOT_AVAILABLE


@pytest.mark.parametrize("status", list(OrderStatus))
def test_only_completed_or_partial_orders(status: OrderStatus) -> None:
    expected = None if status in REFILLABLE_STATUSES else msg.REFILL_NOT_AVAILABLE_FOR_ORDER
    assert refusal(service(), status, FINISHED, FINISHED + timedelta(days=1)) == expected


def test_an_order_without_a_finish_time_is_not_refillable() -> None:
    assert refusal(service(), OrderStatus.COMPLETED, None, FINISHED) == msg.REFILL_NOT_AVAILABLE_FOR_ORDER


@pytest.mark.parametrize("days", [0, 1, 7, 30, 365])
@pytest.mark.parametrize("status", sorted(REFILLABLE_STATUSES))
def test_window_edges(days: int, status: OrderStatus) -> None:
    svc = service(refill_days=days)
    end = FINISHED + timedelta(days=days)
    assert refusal(svc, status, FINISHED, FINISHED) is None  # the moment it finished
    assert refusal(svc, status, FINISHED, end) is None  # the last moment of the window
    assert refusal(svc, status, FINISHED, end + TICK) == msg.REFILL_NOT_AVAILABLE_FOR_ORDER
    assert refusal(svc, status, FINISHED, end + timedelta(days=400)) == msg.REFILL_NOT_AVAILABLE_FOR_ORDER


def test_window_follows_the_service_setting() -> None:
    now = FINISHED + timedelta(days=10)
    assert refusal(service(refill_days=9), OrderStatus.COMPLETED, FINISHED, now) == msg.REFILL_NOT_AVAILABLE_FOR_ORDER
    assert refusal(service(refill_days=10), OrderStatus.COMPLETED, FINISHED, now) is None


@given(st.integers(min_value=0, max_value=3650), st.integers(min_value=0, max_value=4000 * 86_400))
def test_window_property(days: int, seconds_later: int) -> None:
    now = FINISHED + timedelta(seconds=seconds_later)
    allowed = seconds_later <= days * 86_400
    result = refusal(service(refill_days=days), OrderStatus.COMPLETED, FINISHED, now)
    assert result == (None if allowed else msg.REFILL_NOT_AVAILABLE_FOR_ORDER)


# --- refill statuses -------------------------------------------------------------------


def test_refill_statuses() -> None:
    assert [s.value for s in RefillStatus] == ["Pending", "In progress", "Completed", "Rejected"]
    assert {s for s in RefillStatus if s.is_final} == {RefillStatus.COMPLETED, RefillStatus.REJECTED}


@pytest.mark.parametrize("current", list(RefillStatus))
@pytest.mark.parametrize("new", list(RefillStatus))
def test_refill_status_change(current: RefillStatus, new: RefillStatus) -> None:
    if current.is_final and new is not current:
        with pytest.raises(Refused, match=f"^Refill is already {current.value}$"):
            check_refill_status_change(current, new)
    else:
        check_refill_status_change(current, new)
