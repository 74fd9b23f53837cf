"""The admin API's objects as JSON: orders, refills, customers, tickets, top-ups.

Amounts are ``{"value": "0.27819", "currency_code": "USD"}`` with API v2's exact writing;
times are ``YYYY-MM-DD HH:MM:SS`` in UTC, as PerfectPanel panels answer them.
"""

from __future__ import annotations

from datetime import datetime

from smmpanel.api.adminapi.envelope import ORDER_STATUSES, REFILL_STATUSES
from smmpanel.db.admin_api_repositories import Account, Topup
from smmpanel.db.ticket_repositories import Ticket
from smmpanel.money import Units, format_amount
from smmpanel.usecases.admin_desk import RefillRow
from smmpanel.usecases.fulfilment_api import AdminOrder


def money(units: Units, currency: str) -> dict[str, str]:
    return {"value": format_amount(units), "currency_code": currency}


def when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _extra(value: object) -> object:
    """A type's extra field: lists (comments, usernames) one per line, as customers typed them."""
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return value


def order(item: AdminOrder, currency: str) -> dict[str, object]:
    current = item.order
    shaped: dict[str, object] = {
        "id": current.id,
        "user": item.username,
        "service_id": current.service_id,
        "service_name": item.service.name,
        "service_type": item.service.type.value,
        "link": current.link,
        "quantity": current.quantity,
        "start_count": current.start_count,
        "remains": current.remains,
        "status": ORDER_STATUSES[current.status],
        "charge": money(current.charge, currency),
        "created": when(current.created_at),
        "mode": "manual" if item.manual else "auto",
        "provider": item.provider,
        "external_id": current.provider_order_id,
        "cancel_requested": current.cancel_requested,
    }
    if current.runs is not None:
        shaped["runs"] = current.runs
        shaped["interval"] = current.interval
    for name, value in sorted(current.details.items()):
        shaped.setdefault(name, _extra(value))
    access = item.access
    shaped["access"] = {
        "refill": access.refill,
        "set_partial": access.set_partial,
        "cancel_and_refund": access.cancel_and_refund,
        "resend_order": access.resend_order,
        "set_start_count": access.set_start_count,
        "set_remains": access.set_remains,
    }
    return shaped


def refill(row: RefillRow) -> dict[str, object]:
    return {
        "id": row.refill.id,
        "order_id": row.refill.order_id,
        "service_id": row.service_id,
        "link": row.link,
        "status": REFILL_STATUSES[row.refill.status],
        "created": when(row.refill.created_at),
    }


def account(found: Account, currency: str) -> dict[str, object]:
    return {
        "id": found.id,
        "username": found.username,
        "balance": money(found.balance, currency),
        "status": "suspended" if found.disabled else "active",
        "role": found.role,
        "created": when(found.created_at),
    }


def ticket(found: Ticket) -> dict[str, object]:
    return {
        "id": found.id,
        "user": found.username,
        "subject": found.subject,
        "status": found.status.value.lower(),
        "order_id": found.order_id,
        "unread": found.unread_by_operator,
        "created": when(found.created_at),
        "updated": when(found.updated_at),
    }


def topup(found: Topup, currency: str) -> dict[str, object]:
    return {
        "id": found.id,
        "user": found.username,
        "amount": money(found.amount, currency),
        "balance_after": money(found.balance_after, currency),
        "memo": found.note,
        "created": when(found.created_at),
    }
