"""Usernames are unique whatever their case, on both back ends; logins ignore case; the
migration that makes it so stops, naming them, on a database that already has such names."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from smmpanel.db.engine import create_engine
from smmpanel.db.migrate import alembic_config
from smmpanel.errors import Refused
from smmpanel.usecases import accounts
from tests.support.cli import Cli
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.web import WebUser

PASSWORD = "correct horse"


def execute(database_url: str, statement: str) -> None:
    async def run() -> None:
        engine = create_engine(database_url, pool_size=1)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


def add_user_row(database_url: str, number: int, username: str) -> None:
    execute(
        database_url,
        f"INSERT INTO users (username, api_key_hash, created_at) VALUES ('{username}', 'hash{number}', '2026-01-01')",
    )


def test_a_name_differing_only_by_case_is_refused(database_url: str) -> None:
    panel = Panel(database_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    with pytest.raises(Refused, match="already exists"):
        panel.run(lambda db: accounts.create_customer(db, "BOSS", password=PASSWORD))
    with pytest.raises(IntegrityError):  # the database itself refuses it too, whoever asks
        add_user_row(database_url, 2, "Boss")
    assert [customer.username for customer in panel.run(accounts.list_customers)] == ["boss"]


def test_sign_up_refuses_it_and_log_in_ignores_case(database_url: str, start_server: Callable[..., LiveServer]) -> None:
    server = start_server()
    Panel(database_url).run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    visitor = WebUser(server.base_url)
    fields = {"username": "BOSS", "password": "another one", "password_again": "another one"}
    refused = visitor.post("/signup", token_from="/signup", **fields)
    assert refused.status_code == 400 and "already exists" in refused.text
    for spelling in ("BOSS", "Boss"):
        login = WebUser(server.base_url)
        answer = login.log_in(spelling, PASSWORD)
        assert answer.status_code == 303 and answer.headers["location"] == "/admin"
        login.close()
    visitor.close()


def test_the_migration_stops_naming_names_that_differ_only_by_case(database_url: str, tmp_path: Path) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0005")
    for number, username in enumerate(["boss", "alice", "BOSS", "Ann", "ann", "ANN"]):
        add_user_row(database_url, number, username)
    error = Cli(database_url, tmp_path).fails("db", "upgrade")
    assert "differ only by case: 'ANN' and 'Ann' and 'ann'; 'BOSS' and 'boss'." in error, error
    execute(database_url, "UPDATE users SET username = 'boss2' WHERE username = 'BOSS'")
    execute(database_url, "DELETE FROM users WHERE username IN ('Ann', 'ANN')")
    Cli(database_url, tmp_path).text("db", "upgrade")
    with pytest.raises(IntegrityError):
        add_user_row(database_url, 9, "ALICE")
