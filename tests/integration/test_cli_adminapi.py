"""``smmpanel admin-api key …`` as a real process, on both back ends; keys then used over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from smmpanel.keys import hash_api_key
from smmpanel.usecases import admin_keys, audit
from tests.support.adminapi import AdminClient
from tests.support.cli import Cli
from tests.support.panel import Panel
from tests.support.server import LiveServer


def test_create_list_revoke(database_url: str, tmp_path: Path, start_server: Callable[..., LiveServer]) -> None:
    cli = Cli(database_url, tmp_path)
    created = cli.json("admin-api", "key", "create", "--name", "bot")
    assert list(created) == ["name", "api_key"] and created["name"] == "bot"
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", created["api_key"])  # 192 random bits, URL-safe
    cli.json("admin-api", "key", "create", "--name", "books", "--role", "finance")
    panel = Panel(database_url, start_server().api_url)
    try:
        stored = panel.run(admin_keys.list_keys)
        assert [(key.name, key.role) for key in stored] == [("bot", "admin"), ("books", "finance")]
        assert panel.run(lambda db: admin_keys.authenticate_key(db, created["api_key"])) is not None
        assert hash_api_key(created["api_key"]) not in cli.text("admin-api", "key", "list")
        client = AdminClient(panel, created["api_key"])
        assert client.data("GET", "/adminapi/v2/users") == {"list": [], "count": 0}
        listed = cli.json("admin-api", "key", "list")["keys"]
        assert [(key["name"], key["role"], key["revoked_at"]) for key in listed] == [
            ("bot", "admin", None),
            ("books", "finance", None),
        ]
        revoked = cli.json("admin-api", "key", "revoke", "--name", "bot")
        assert revoked["name"] == "bot" and revoked["revoked_at"].endswith("Z")
        assert client.answer("GET", "/adminapi/v2/users")["error_code"] == 401
        actions = [(entry.actor, entry.action) for entry in panel.run(lambda db: audit.audit_page(db)).items]
        assert actions == [
            ("cli", "admin_api.key_revoke"),
            ("cli", "admin_api.key_create"),
            ("cli", "admin_api.key_create"),
        ]
    finally:
        panel.close()
    assert "already exists" in cli.fails("admin-api", "key", "create", "--name", "books")
    assert "invalid choice" in cli.fails("admin-api", "key", "create", "--name", "x", "--role", "boss")
    assert "no admin API key named 'ghost'" in cli.fails("admin-api", "key", "revoke", "--name", "ghost")
    assert "key name must be" in cli.fails("admin-api", "key", "create", "--name", "two words")
