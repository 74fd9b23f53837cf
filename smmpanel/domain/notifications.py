"""The notifications the panel sends: who receives each one, and how the switches name it."""

from __future__ import annotations

TICKET_ANSWERED = "ticket_answered"
ORDER_FINISHED = "order_finished"
REFILL_FINISHED = "refill_finished"
PAYMENT_CREDITED = "payment_credited"
LOW_BALANCE = "low_balance"
NEW_TICKET = "new_ticket"
ORDER_ATTENTION = "order_attention"
PROVIDER_ALERT = "provider_alert"
DEPOSIT_TO_REVIEW = "deposit_to_review"

CUSTOMER_EVENTS: dict[str, str] = {
    TICKET_ANSWERED: "Support answered one of my tickets",
    ORDER_FINISHED: "An order finished Partial or Canceled (with the refund)",
    REFILL_FINISHED: "A refill finished",
    PAYMENT_CREDITED: "A payment was credited",
    LOW_BALANCE: "My balance fell under my threshold",
}
"""Sent to the customer concerned; the operator and each customer can turn each one off."""

OPERATOR_EVENTS: dict[str, str] = {
    NEW_TICKET: "A customer opened a ticket",
    ORDER_ATTENTION: "An order went to the attention list",
    PROVIDER_ALERT: "A provider's balance is under the warning level, or the provider is unreachable",
    DEPOSIT_TO_REVIEW: "A deposit waits for review",
}
"""Sent to the operator (their email and Telegram chat); the operator can turn each one off."""

ALL_EVENTS: dict[str, str] = {**CUSTOMER_EVENTS, **OPERATOR_EVENTS}
