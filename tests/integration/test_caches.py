"""The process caches of API keys and of the catalog (``smmpanel.db.cache``) never answer wrong.

A change made by this process (here: through another ``Database`` of the test process, as the
dashboard or an operator command in the serving process would) is seen by the very next API
call; a change made by another process (the CLI) within the documented ``cache_seconds``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from smmpanel.db import repositories
from smmpanel.db.cache import CATALOG, KEYS, TopicCache, _topic_written
from smmpanel.db.tables import services, users
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, catalog
from tests.support.panel import Panel
from tests.support.server import LiveServer

LINK = "https://instagram.com/p/cache"


def test_a_read_begun_before_a_change_is_not_kept() -> None:
    cache = TopicCache()
    generation = cache.generation
    cache.clear()  # a change commits while the read is under way
    cache.put("k", "old", generation, ttl=60)
    assert cache.get("k") == (False, None)
    cache.put("k", "new", cache.generation, ttl=60)
    assert cache.get("k") == (True, "new")


def test_entries_expire() -> None:
    cache = TopicCache()
    cache.put("k", "v", cache.generation, ttl=0.05)
    assert cache.get("k") == (True, "v")
    time.sleep(0.1)
    assert cache.get("k") == (False, None)
    cache.put("k", "v", cache.generation, ttl=0)  # caching off
    assert cache.get("k") == (False, None)


def test_a_balance_move_leaves_the_key_cache_alone_and_any_other_customer_change_clears_it() -> None:
    """Every order debits a balance: were that a change of the customer, no key would stay cached."""
    debit = {"user_id": 1, "amount": -100}
    assert _topic_written(repositories._CHANGE_BALANCE, debit) is None
    assert _topic_written(users.update().values(balance=5), {}) is None
    assert _topic_written(users.update().values(api_key_hash="x"), {}) == KEYS
    assert _topic_written(users.update().where(users.c.id == 1), {"disabled": True}) == KEYS  # set by a parameter
    assert _topic_written(services.update().values(rate=1), {}) == CATALOG


def test_a_rotated_key_stops_working_at_once(panel: Panel) -> None:
    old = panel.customer("alice", "10")
    assert panel.call(old, "balance")["balance"] == "10.00"  # cached now
    new = panel.run(lambda db: accounts.rotate_key(db, "alice")).api_key
    assert panel.call(old, "balance") == {"error": "Invalid API key"}
    assert panel.call(new, "balance")["balance"] == "10.00"


def test_a_disabled_customer_stops_at_once_and_an_enabled_one_comes_back(panel: Panel) -> None:
    key = panel.customer("alice", "10")
    assert "balance" in panel.call(key, "balance")
    panel.run(lambda db: accounts.set_disabled(db, "alice", True))
    assert panel.call(key, "balance") == {"error": "Invalid API key"}
    panel.run(lambda db: accounts.set_disabled(db, "alice", False))
    assert "balance" in panel.call(key, "balance")


def test_balances_are_never_cached(panel: Panel) -> None:
    key = panel.customer("alice", "10")
    service = panel.service(rate="1.00", min=10, max=10000)
    assert panel.call(key, "balance")["balance"] == "10.00"
    assert "order" in panel.call(key, "add", service=service, link=LINK, quantity=1000)
    assert panel.call(key, "balance")["balance"] == "9.00"
    panel.run(lambda db: accounts.fund(db, "alice", parse_amount("5")))
    assert panel.call(key, "balance")["balance"] == "14.00"


def test_a_catalog_change_is_seen_at_once(panel: Panel) -> None:
    key = panel.customer("alice", "100")
    service = panel.service(rate="1.00", min=10, max=10000)
    assert [s["rate"] for s in panel.call(key, "services")] == ["1.00"]
    panel.run(lambda db: catalog.update_service(db, service, catalog.ServiceChanges(rate=parse_amount("2.00"))))
    assert [s["rate"] for s in panel.call(key, "services")] == ["2.00"]
    order = panel.call(key, "add", service=service, link=LINK, quantity=1000)["order"]
    assert panel.call(key, "status", order=order)["charge"] == "2.00"
    panel.run(lambda db: catalog.update_service(db, service, catalog.ServiceChanges(enabled=False)))
    assert panel.call(key, "services") == []
    assert panel.call(key, "add", service=service, link=LINK, quantity=1000) == {"error": "Incorrect service ID"}
    added = panel.service(name="Likes", rate="0.50", min=10, max=10000)
    assert [s["service"] for s in panel.call(key, "services")] == [added]


def _cli(database_url: str, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMMPANEL_")}
    env["SMMPANEL_DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-m", "smmpanel", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def _seen_within(check: Callable[[], bool], seconds: float) -> float:
    """Seconds until ``check`` holds, failing past ``seconds``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not seen within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.parametrize("change", ["disable", "rotate", "catalog"])
def test_another_process_is_seen_within_the_cache_seconds(
    change: str, database_url: str, start_server: Callable[..., LiveServer]
) -> None:
    ttl = 1.0
    panel = Panel(database_url, start_server(cache_seconds=ttl).api_url)
    try:
        key = panel.customer("alice", "10")
        service = panel.service(rate="1.00", min=10, max=10000)
        assert "balance" in panel.call(key, "balance") and panel.call(key, "services")  # both cached
        if change == "disable":
            _cli(database_url, "user", "disable", "alice")
            _seen_within(lambda: panel.call(key, "balance") == {"error": "Invalid API key"}, ttl + 0.5)
        elif change == "rotate":
            _cli(database_url, "user", "key", "alice", "--rotate")
            _seen_within(lambda: panel.call(key, "balance") == {"error": "Invalid API key"}, ttl + 0.5)
        else:
            _cli(database_url, "service", "disable", str(service))
            _seen_within(lambda: panel.call(key, "services") == [], ttl + 0.5)
    finally:
        panel.close()
