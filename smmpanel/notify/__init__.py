"""Channels that carry the panel's messages out: email (SMTP) and Telegram, behind one interface.

A channel only translates a queued message to its wire format and reports whether it left.
What to send, to whom and when is decided by the use cases (``smmpanel.usecases.notifications``);
the engine's mail pass (``smmpanel.engine.mail_out``) delivers the queue and retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

EMAIL = "email"
TELEGRAM = "telegram"


class DeliveryFailed(Exception):
    """The message did not leave (server down, refused, misconfigured): try again later."""


@dataclass(frozen=True, slots=True)
class Message:
    recipient: str
    subject: str
    text: str
    html: str | None = None


class Channel(Protocol):
    async def send(self, message: Message) -> None:
        """Deliver ``message`` or raise ``DeliveryFailed``."""
