"""A live panel that sends its mail through a loopback SMTP server, and the operator's switches for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from smmpanel.config import Settings
from smmpanel.db.tables import account_tokens, mail_queue
from smmpanel.db.unit_of_work import Database
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, email_accounts
from smmpanel.usecases.notify_settings import notify_settings, save_notify_settings
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.smtp import SmtpServer, link_in

PASSWORD = "correct horse"
MAIL_SETTINGS: dict[str, Any] = {"run_engine": True, "engine_interval": 0.05, "mail_retry_backoff": 0.2}
"""The engine runs in the server and retries a failed delivery soon (0.2 s, then 0.4 s, 0.8 s …)."""


@dataclass
class MailPanel:
    panel: Panel
    server: LiveServer
    smtp: SmtpServer
    env: Settings

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def configure(self, **changes: Any) -> None:
        """Change the operator's notification settings (``NotifySettings`` fields) as the dashboard does."""

        async def work(db: Database) -> None:
            current = await notify_settings(db, self.env)
            await save_notify_settings(db, self.env, replace(current, **changes))

        self.panel.run(work)

    def customer(self, username: str, email: str, *, balance: str = "100", verified: bool = True) -> str:
        """A customer with a dashboard password and an email (verified by following its link); its API key."""

        async def work(db: Database) -> str:
            created = await accounts.create_customer(
                db, username, parse_amount(balance), password=PASSWORD, email=email, site=self.base_url
            )
            return created.api_key

        key = self.panel.run(work)
        if verified:
            self.verify(email)
        return key

    def verify(self, email: str) -> None:
        link = link_in(self.smtp.wait_for(email, "Confirm your email"), "/verify-email")
        token = link.rpartition("token=")[2]
        self.panel.run(lambda db: email_accounts.verify_email(db, token))

    def user_id(self, username: str) -> int:
        customers = self.panel.run(accounts.list_customers)
        return next(c.id for c in customers if c.username == username)

    def queue(self) -> list[dict[str, Any]]:
        """Every queued, sent and failed message, oldest first."""

        async def work(db: Database) -> list[dict[str, Any]]:
            async with db.engine.connect() as conn:
                rows = await conn.execute(sa.select(mail_queue).order_by(mail_queue.c.id))
                return [dict(row._mapping) for row in rows]

        return self.panel.run(work)

    def expire_tokens(self, when: datetime) -> None:
        async def work(db: Database) -> None:
            async with db.engine.begin() as conn:
                await conn.execute(account_tokens.update().values(expires_at=when))

        self.panel.run(work)


@pytest.fixture
def mail_panel(database_url: str, start_server: Callable[..., LiveServer], smtp: SmtpServer) -> Iterator[MailPanel]:
    server = start_server(**MAIL_SETTINGS, **smtp.settings)
    panel = Panel(database_url, server.api_url)
    yield MailPanel(panel, server, smtp, Settings(database_url=database_url, **smtp.settings))
    panel.close()
