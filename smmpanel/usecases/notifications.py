"""Who is told what: one function per event, each queuing its messages in the caller's transaction.

A message is queued (``mail_queue``) in the very transaction of the change that causes it, so it is
sent if and only if that change commits; the engine's mail pass delivers it later, never the
request that caused it. Each event can be turned off by the operator (for everyone) and, for
the customer's own events, by each customer (``notification_prefs``). Email goes to a customer's
verified address only; Telegram to their chat id when they gave one and the operator has a bot.

Payments are not part of this module's branch: whoever credits a payment calls
``payment_credited`` and whoever holds a deposit for review calls ``deposit_to_review``, inside
their transaction, like every other event here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smmpanel import i18n
from smmpanel.db.repositories import Repositories
from smmpanel.domain import notifications as events
from smmpanel.money import Units
from smmpanel.notify import EMAIL, TELEGRAM
from smmpanel.notify.render import render_message
from smmpanel.usecases.notify_settings import NOTIFY_OFF, OPERATOR_EMAIL, TELEGRAM_CHAT_ID, TELEGRAM_TOKEN


async def enqueue(
    repos: Repositories,
    channel: str,
    recipient: str,
    event: str,
    values: dict[str, Any],
    now: datetime,
    *,
    user_id: int | None = None,
) -> int:
    """Render the event's templates for ``recipient`` and queue the message; its id.

    In the language of the customer ``user_id`` (their own choice, else the panel's default); mail to
    the operator (no ``user_id``) in the panel's default language.
    """
    message = render_message(event, recipient, values, await _language(repos, user_id))
    html = message.html if channel == EMAIL else None
    return await repos.notify.queue.add(channel, recipient, event, message.subject, message.text, html, now)


async def _language(repos: Repositories, user_id: int | None) -> str:
    own = await repos.languages.of(user_id) if user_id is not None else None
    default = await repos.settings.get(i18n.DEFAULT_LANGUAGE_SETTING)
    return i18n.known(own) or i18n.known(default) or i18n.SOURCE


async def _switched_off(repos: Repositories, event: str) -> bool:
    text = await repos.settings.get(NOTIFY_OFF) or ""
    return event in {name.strip() for name in text.split(",")}


async def _to_customer(repos: Repositories, user_id: int, event: str, values: dict[str, Any], now: datetime) -> None:
    if await _switched_off(repos, event):
        return
    prefs = await repos.notify.prefs.of(user_id)
    contact = await repos.notify.emails.contact(user_id)
    if event in prefs.off or contact is None:
        return
    values = {"username": contact.username, **values}
    if contact.email and contact.verified:
        await enqueue(repos, EMAIL, contact.email, event, values, now, user_id=user_id)
    if prefs.telegram_chat_id and await repos.settings.get(TELEGRAM_TOKEN):
        await enqueue(repos, TELEGRAM, prefs.telegram_chat_id, event, values, now, user_id=user_id)


async def _to_operator(repos: Repositories, event: str, values: dict[str, Any], now: datetime) -> None:
    if await _switched_off(repos, event):
        return
    email = await repos.settings.get(OPERATOR_EMAIL)
    if email:
        await enqueue(repos, EMAIL, email, event, values, now)
    chat_id = await repos.settings.get(TELEGRAM_CHAT_ID)
    if chat_id and await repos.settings.get(TELEGRAM_TOKEN):
        await enqueue(repos, TELEGRAM, chat_id, event, values, now)


# --- to a customer -----------------------------------------------------------------


async def ticket_answered(
    repos: Repositories, user_id: int, ticket_id: int, subject: str, body: str, now: datetime
) -> None:
    values = {"ticket_id": ticket_id, "subject": subject, "body": body}
    await _to_customer(repos, user_id, events.TICKET_ANSWERED, values, now)


async def order_finished(
    repos: Repositories,
    user_id: int,
    order_id: int,
    link: str,
    status: str,
    refund: Units,
    refunded: Units,
    now: datetime,
) -> None:
    """An order ended Partial or Canceled: ``refund`` came back just now, ``refunded`` in all."""
    values = {"order_id": order_id, "link": link, "status": status, "refund": refund, "refunded": refunded}
    await _to_customer(repos, user_id, events.ORDER_FINISHED, values, now)


async def refill_finished(repos: Repositories, refill_id: int, status: str, now: datetime) -> None:
    refill = await repos.refills.get(refill_id)
    if refill is not None:
        values = {"refill_id": refill_id, "order_id": refill.order_id, "status": status, "reason": refill.reason or ""}
        await _to_customer(repos, refill.user_id, events.REFILL_FINISHED, values, now)


async def payment_credited(
    repos: Repositories, user_id: int, amount: Units, balance: Units, reference: str, now: datetime
) -> None:
    """For the payments code: call it in the transaction that credits the payment."""
    values = {"amount": amount, "balance": balance, "reference": reference}
    await _to_customer(repos, user_id, events.PAYMENT_CREDITED, values, now)


async def balance_changed(repos: Repositories, user_id: int, amount: Units, balance: Units, now: datetime) -> None:
    """After every balance change (``money_moves.post_entry``): a debit that takes the balance under
    the customer's own threshold tells them once, until the balance is back at or above it."""
    if amount < 0:
        threshold = await repos.notify.prefs.low_balance_crossed(user_id, balance)
        if threshold is not None:
            await low_balance_reached(repos, user_id, balance, threshold, now)
    elif amount > 0:
        await repos.notify.prefs.rearm_low_balance(user_id, balance)


async def low_balance_reached(
    repos: Repositories, user_id: int, balance: Units, threshold: Units, now: datetime
) -> None:
    """The customer's balance has just gone under their ``threshold`` (already marked as told)."""
    await _to_customer(repos, user_id, events.LOW_BALANCE, {"balance": balance, "threshold": threshold}, now)


# --- to the operator ---------------------------------------------------------------


async def new_ticket(repos: Repositories, user_id: int, ticket_id: int, subject: str, body: str, now: datetime) -> None:
    contact = await repos.notify.emails.contact(user_id)
    values = {
        "username": contact.username if contact else str(user_id),
        "ticket_id": ticket_id,
        "subject": subject,
        "body": body,
    }
    await _to_operator(repos, events.NEW_TICKET, values, now)


async def order_needs_attention(repos: Repositories, order_id: int, reason: str, now: datetime) -> None:
    await _to_operator(repos, events.ORDER_ATTENTION, {"order_id": order_id, "reason": reason}, now)


async def provider_alert(
    repos: Repositories,
    provider: str,
    alert: str,
    *,
    balance: Units | None,
    threshold: Units,
    error: str | None,
    now: datetime,
) -> None:
    """``alert`` is ``low`` (balance under ``threshold``) or ``unreachable`` (``error`` says why)."""
    values = {"provider": provider, "alert": alert, "balance": balance, "threshold": threshold, "error": error}
    await _to_operator(repos, events.PROVIDER_ALERT, values, now)


async def deposit_to_review(repos: Repositories, user_id: int, amount: Units, reference: str, now: datetime) -> None:
    """For the payments code: call it in the transaction that puts a deposit up for review."""
    contact = await repos.notify.emails.contact(user_id)
    values = {"username": contact.username if contact else str(user_id), "amount": amount, "reference": reference}
    await _to_operator(repos, events.DEPOSIT_TO_REVIEW, values, now)
