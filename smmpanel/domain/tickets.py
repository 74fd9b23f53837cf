"""Support tickets: the conversation between a customer and the operator, and its status."""

from __future__ import annotations

from enum import StrEnum

from smmpanel.errors import Refused

MAX_SUBJECT = 255
MAX_MESSAGE = 10_000


class TicketStatus(StrEnum):
    """Who has to act next: Open waits for the operator, Answered for the customer."""

    OPEN = "Open"
    ANSWERED = "Answered"
    CLOSED = "Closed"


def checked_subject(subject: str) -> str:
    subject = subject.strip()
    if not subject:
        raise Refused("Please write a subject")
    if len(subject) > MAX_SUBJECT:
        raise Refused("The subject is too long (at most %(max_subject)s characters)", max_subject=MAX_SUBJECT)
    return subject


def checked_message(message: str) -> str:
    """The message as it will be kept: surrounding blank lines trimmed, line breaks unified."""
    message = message.replace("\r\n", "\n").strip()
    if not message:
        raise Refused("Please write a message")
    if len(message) > MAX_MESSAGE:
        raise Refused("The message is too long (at most %(max_message)s characters)", max_message=MAX_MESSAGE)
    return message


def check_customer_may_reply(status: TicketStatus) -> None:
    """A closed ticket stays closed for its customer: a new problem gets a new ticket."""
    if status is TicketStatus.CLOSED:
        raise Refused("This ticket is closed. Please open a new one.")
