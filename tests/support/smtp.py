"""A real SMTP server on loopback (aiosmtpd), whose received messages the tests read.

It can be stopped and started again on the same port, to play an outage of the mail server.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.engine import free_port


class Inbox:
    """Every message the server accepted, parsed, in the order they arrived."""

    def __init__(self) -> None:
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self._messages.append(parsed)
        return "250 Message accepted for delivery"

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self._messages if to is None or m["To"] == to]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def settings(self) -> dict[str, Any]:
        """The panel's settings to send through this server."""
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_tls": "none", "mail_from": "panel@test.example"}

    def start(self) -> SmtpServer:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, to: str, subject_part: str, timeout: float = 30.0) -> EmailMessage:
        """The first message to ``to`` whose subject contains ``subject_part``, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.inbox.messages(to):
                if subject_part in str(message["Subject"]):
                    return message
            assert time.monotonic() < deadline, f"no mail to {to} about {subject_part!r} within {timeout}s"
            time.sleep(0.05)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def link_in(message: EmailMessage, path: str) -> str:
    """The link to ``path`` in the plain text of ``message``."""
    found = re.search(rf"(https?://\S+{re.escape(path)}\?token=[A-Za-z0-9_\-]+)", text_of(message))
    assert found is not None, text_of(message)
    return found.group(1)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
