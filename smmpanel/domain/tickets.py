"""Support tickets: the conversation between a customer and the operator, and its status."""

from __future__ import annotations

from enum import StrEnum

from smmpanel.errors import Refused

MAX_SUBJECT = 255
MAX_MESSAGE = 10_000
MAX_CANNED_TITLE = 64


class TicketTopic(StrEnum):
    """The subjects a customer picks from; all but Other are about one of their orders."""

    REFILL = "Refill"
    CANCEL = "Cancel"
    SPEED_UP = "Speed up"
    OTHER = "Other"

    @property
    def needs_order(self) -> bool:
        return self is not TicketTopic.OTHER


def topic_subject(topic_text: str, order_id: int | None, subject: str) -> str:
    """The ticket's subject from the picked topic: "Refill #123", or the customer's own words for Other.

    ``order_id`` is required for the order topics (the caller checks it is the customer's own).
    """
    try:
        topic = TicketTopic(topic_text or TicketTopic.OTHER)  # no topic (an old form): the customer's own words
    except ValueError:
        raise Refused("Please choose a subject") from None
    if topic.needs_order:
        if order_id is None:
            raise Refused("Please write the order ID for %(topic)s", topic=topic.value)
        return f"{topic.value} #{order_id}"
    return checked_subject(subject)


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


def checked_canned_reply(title: str, body: str) -> tuple[str, str]:
    """A canned reply's title (one short line) and its text, kept like an answer would be."""
    title = " ".join(title.split())
    if not title:
        raise Refused("Please write a title")
    if len(title) > MAX_CANNED_TITLE:
        raise Refused("The title is too long (at most %(limit)s characters)", limit=MAX_CANNED_TITLE)
    return title, checked_message(body)
