"""Email over SMTP: the standard library's ``smtplib``, run in a thread so the event loop never waits."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from smmpanel.notify import DeliveryFailed, Message

TLS_MODES = ("none", "starttls", "ssl")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    tls: str
    username: str
    password: str
    from_address: str
    timeout: float


def build_email(message: Message, from_address: str) -> EmailMessage:
    """A plain-text email, with the HTML version as its alternative when there is one."""
    email = EmailMessage()
    email["From"] = from_address
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2] or None)
    email.set_content(message.text)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
    return email


class SmtpChannel:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, message: Message) -> None:
        if not self.settings.host:
            raise DeliveryFailed("no SMTP server is set")
        await asyncio.to_thread(self._send_now, build_email(message, self.settings.from_address))

    def _send_now(self, email: EmailMessage) -> None:
        s = self.settings
        try:
            if s.tls == "ssl":
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                server = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with server:
                if s.tls == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if s.username:
                    server.login(s.username, s.password)
                server.send_message(email)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"SMTP {s.host}:{s.port}: {error}") from None
