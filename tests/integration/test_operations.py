"""Operating a panel: rate limits, health probes, metrics, logs, backups and graceful shutdown.

Everything runs for real: live servers, real `python -m smmpanel serve` processes sent
real signals, a real Redis (a dedicated database number, flushed by the test), and a
provider that answers slowly on cue.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from smmpanel.db.dispatch_repositories import ATTENTION, CLAIMED, QUEUED, SENDING, SENT
from smmpanel.money import format_amount, parse_amount
from smmpanel.usecases import accounts, orders, providers
from tests.support.cli import Background, Cli
from tests.support.databases import REQUIRE_POSTGRES
from tests.support.engine import all_orders, free_port, refusing_address, run_passes, wait_for
from tests.support.misbehaving import MisbehavingProvider
from tests.support.panel import Panel
from tests.support.server import LiveServer

REDIS_URL = os.environ.get("SMMPANEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
"""A Redis database number of the tests' own: each test that uses it flushes it."""
TOO_MANY = {"error": "Too many requests"}
INVALID_KEY = {"error": "Invalid API key"}
SECRET_KEY = "s" * 40
LINK = "https://instagram.com/p/operations"

StartServer = Callable[..., LiveServer]


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture
def shared_redis() -> Iterator[str]:
    """An empty Redis database; skipped when Redis is down, unless CI requires it."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        client.close()
        if REQUIRE_POSTGRES:
            pytest.fail(f"Redis unavailable at {REDIS_URL}: {error}", pytrace=False)
        pytest.skip(f"Redis unavailable at {REDIS_URL}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


def api(server: LiveServer, **params: Any) -> httpx.Response:
    return httpx.post(server.api_url, data=params, timeout=30)


def assert_too_many(response: httpx.Response, at_most: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == TOO_MANY
    assert 1 <= int(response.headers["retry-after"]) <= at_most


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metric_samples(text: str) -> Samples:
    """Every sample of a Prometheus exposition, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def wait_until_up(base_url: str) -> None:
    def up() -> bool:
        try:
            return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, "the panel to serve", timeout=30, every=0.1)


def add_provider(panel: Panel, name: str, url: str, key: str) -> None:
    panel.run(lambda db: providers.add_provider(db, name, url, key))


def link(panel: Panel, service_id: int, provider: str) -> None:
    panel.run(lambda db: providers.link_service(db, service_id, provider, 1, 0))


# --- rate limits -----------------------------------------------------------------------------


def test_limits_are_off_by_default(panel: Panel) -> None:
    key = panel.customer()
    answers = [panel.post(key=key, action="balance") for _ in range(40)]
    assert {response.status_code for response in answers} == {200}
    assert all("balance" in response.json() for response in answers)


def test_a_key_over_its_limit_gets_429_with_retry_after_and_other_keys_go_on(
    database_url: str, start_server: StartServer
) -> None:
    server = start_server(rate_limits="balance=3/minute, status=100/day")
    ops = Panel(database_url)
    alice, bob = ops.customer("alice"), ops.customer("bob")
    assert [api(server, key=alice, action="balance").status_code for _ in range(3)] == [200, 200, 200]
    refused = api(server, key=alice, action="balance")
    if refused.status_code == 200:  # the minute turned just now: a new window
        refused = [api(server, key=alice, action="balance") for _ in range(4)][-1]
    assert_too_many(refused, at_most=60)
    assert api(server, key=bob, action="balance").json()["balance"] == "100.00"  # per key, not per address
    assert api(server, key=alice, action="status", order=1).json() == {"error": "Incorrect order ID"}  # per action
    assert api(server, key=alice, action="services").status_code == 200  # actions not named: no limit
    ops.close()


def test_an_address_limit_counts_every_key_from_that_address(database_url: str, start_server: StartServer) -> None:
    server = start_server(address_rate_limits="*=4/day")
    ops = Panel(database_url)
    alice, bob = ops.customer("alice"), ops.customer("bob")
    answers = [api(server, key=key, action="balance").status_code for key in (alice, alice, bob, bob)]
    assert answers == [200, 200, 200, 200]
    assert_too_many(api(server, key=bob, action="balance"), at_most=86400)
    assert_too_many(api(server, key="not-a-key", action="balance"), at_most=86400)
    assert api(server, key=alice, action="services").status_code == 200  # each action has its own count
    ops.close()


def test_failed_keys_lock_the_address_whatever_key_comes_next(database_url: str, start_server: StartServer) -> None:
    server = start_server(invalid_key_limit="3/day")
    ops = Panel(database_url)
    alice = ops.customer("alice")
    assert api(server, key=alice, action="balance").status_code == 200  # good keys do not count
    assert [api(server, key=f"guess{n}", action="balance").json() for n in range(3)] == [INVALID_KEY] * 3
    # From now on a right key and a wrong one get the same answer: a guess learns nothing.
    assert_too_many(api(server, key="guess4", action="balance"), at_most=86400)
    assert_too_many(api(server, key=alice, action="balance"), at_most=86400)
    ops.close()


def test_failed_key_limit_is_on_by_default_and_can_be_turned_off(database_url: str, start_server: StartServer) -> None:
    default, off = start_server(), start_server(invalid_key_limit="off")
    statuses: list[int] = []
    while 429 not in statuses and len(statuses) < 61:  # 61 wrong keys span at most two windows of a minute
        statuses.append(api(default, key=f"guess{len(statuses)}", action="balance").status_code)
    assert statuses[-1] == 429 and statuses.index(429) >= 30  # 30 a minute are answered
    assert {api(off, key=f"guess{n}", action="balance").status_code for n in range(40)} == {200}


def test_two_servers_share_their_counts_through_redis(
    database_url: str, start_server: StartServer, shared_redis: str
) -> None:
    limits = {"rate_limits": "balance=4/day", "invalid_key_limit": "2/day", "redis_url": shared_redis}
    first, second = start_server(**limits), start_server(**limits)
    ops = Panel(database_url)
    alice, bob = ops.customer("alice"), ops.customer("bob")
    assert [api(server, key=alice, action="balance").status_code for server in (first, second) * 2] == [200] * 4
    assert_too_many(api(first, key=alice, action="balance"), at_most=86400)
    assert_too_many(api(second, key=alice, action="balance"), at_most=86400)
    assert api(second, key=bob, action="balance").status_code == 200

    assert api(first, key="guess1", action="balance").json() == INVALID_KEY
    assert api(second, key="guess2", action="balance").json() == INVALID_KEY
    assert_too_many(api(first, key="guess3", action="balance"), at_most=86400)
    assert_too_many(api(second, key=bob, action="balance"), at_most=86400)
    keys = redis.Redis.from_url(shared_redis).keys("smmpanel:rl:*")
    assert keys and not any(alice.encode() in key or bob.encode() in key for key in keys)  # ids, never keys
    ops.close()


def test_an_unreachable_redis_lets_requests_through(database_url: str, start_server: StartServer) -> None:
    server = start_server(rate_limits="balance=1/day", redis_url=f"redis://127.0.0.1:{free_port()}/0")
    key = Panel(database_url).customer("alice")
    assert [api(server, key=key, action="balance").status_code for _ in range(3)] == [200, 200, 200]


def test_a_malformed_limit_is_one_clear_error(tmp_path: Path) -> None:
    cli = Cli("sqlite:///unused.db", tmp_path, rate_limits="add=60/minit")
    error = cli.fails("serve")
    assert "SMMPANEL_RATE_LIMITS" in error and "'60/minit' is not a rate" in error
    assert "unknown action 'ad'" in Cli("sqlite:///unused.db", tmp_path, address_rate_limits="ad=1/day").fails("serve")


# --- health and readiness --------------------------------------------------------------------


def test_health_and_readiness(panel: Panel) -> None:
    assert panel.api_url is not None
    base = panel.api_url.removesuffix("/api/v2")
    health = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "probe-1"})
    assert (health.status_code, health.json(), health.headers["x-request-id"]) == (200, {"status": "ok"}, "probe-1")
    ready = httpx.get(f"{base}/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert ready.headers["content-type"] == "application/json; charset=utf-8"
    assert len(ready.headers["x-request-id"]) == 32  # none sent: one made


def test_readiness_fails_while_the_database_is_unreachable(
    database_url: str, start_server: StartServer, tmp_path: Path
) -> None:
    if database_url.startswith("sqlite"):
        gone = tmp_path / "gone.db"
        gone.write_bytes(Path(database_url.removeprefix("sqlite:///")).read_bytes())
        gone.unlink()
        unreachable = f"sqlite:///{gone}"
    else:
        unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/smmpanel"
    server = start_server(database_url=unreachable, secret_key=SECRET_KEY)
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200  # the process is up …
    ready = httpx.get(f"{server.base_url}/readyz", timeout=30)  # … but cannot serve
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "error": "database unreachable"}
    if database_url.startswith("sqlite"):
        assert not gone.exists()  # the probe did not create an empty database in its place


# --- metrics ----------------------------------------------------------------------------------


def test_metrics_count_api_calls_orders_and_upstream_errors(database_url: str, start_server: StartServer) -> None:
    server = start_server(metrics_token="t" * 20)
    ops = Panel(database_url, server.api_url)
    key = ops.customer()
    manual, forwarded = ops.service(), ops.service(name="Likes")

    def scrape() -> Samples:
        response = httpx.get(f"{server.base_url}/metrics", headers={"Authorization": "Bearer " + "t" * 20})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        return metric_samples(response.text)

    def delta(after: Samples, name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert httpx.get(f"{server.base_url}/metrics").status_code == 401  # the token is required once set
    # Counters are per process, and earlier tests served from this one: count from here on.
    before = metric_samples(generate_latest(REGISTRY).decode())
    with refusing_address() as refusing_url:
        add_provider(ops, "downstream", refusing_url, "provider-key")
        link(ops, forwarded, "downstream")
        ops.call(key, "balance")
        ops.call(key, "add", service=manual, link=LINK, quantity=100)
        ops.call(key, "add", service=forwarded, link=LINK, quantity=100)
        assert ops.call(key, "status", order=99) == {"error": "Incorrect order ID"}
        assert ops.call("wrong", "balance") == INVALID_KEY
        assert ops.call(key, "no-such-action") == {"error": "Incorrect request"}
        after = scrape()
        # The engine finds the provider refusing connections: one upstream error, by provider.
        run_passes(ops, send_retries=0)
    assert delta(after, "smmpanel_api_requests_total", action="balance", outcome="ok") == 1
    assert delta(after, "smmpanel_api_requests_total", action="add", outcome="ok") == 2
    assert delta(after, "smmpanel_api_requests_total", action="status", outcome="not_found") == 1
    assert delta(after, "smmpanel_api_requests_total", action="balance", outcome="invalid_key") == 1
    assert delta(after, "smmpanel_api_requests_total", action="unknown", outcome="incorrect_request") == 1
    assert delta(after, "smmpanel_api_request_duration_seconds_count", action="add") == 2
    assert sample(after, "smmpanel_database_up") == 1
    assert sample(after, "smmpanel_orders", status="Pending") == 2
    assert sample(after, "smmpanel_orders", status="Completed") == 0
    assert sample(after, "smmpanel_engine_queue_depth", state=QUEUED) == 1  # the manual order is not queued
    assert sample(after, "smmpanel_engine_queue_lag_seconds") > 0
    assert delta(scrape(), "smmpanel_upstream_errors_total", provider="downstream") == 1
    ops.close()


# --- logs -----------------------------------------------------------------------------------


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def test_logs_carry_the_request_id_and_never_a_secret(database_url: str, tmp_path: Path) -> None:
    password, wrong_password = "Pw-" + secrets.token_urlsafe(16), "Wrong-" + secrets.token_urlsafe(16)
    provider_key = "prov-" + secrets.token_urlsafe(24)
    request_id = "trace-" + secrets.token_hex(6)
    ops = Panel(database_url)
    created = ops.run(lambda db: accounts.create_customer(db, "alice", 100_00000, password=password))
    api_key, wrong_key = created.api_key, "guess-" + secrets.token_urlsafe(24)
    service = ops.service()
    provider = MisbehavingProvider().start()
    provider.answer('{"order": 4242}')
    add_provider(ops, "upstream", provider.api_url, provider_key)
    link(ops, service, "upstream")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes = Background(database_url, tmp_path)
    try:
        server = processes.start(
            "serve",
            "--port",
            str(port),
            log_format="json",
            log_level="DEBUG",
            secret_key=SECRET_KEY,
            engine_interval=0.1,
            sync_interval=600,
        )
        wait_until_up(base)
        with httpx.Client(base_url=base, timeout=30) as client:
            headers = {"X-Request-ID": request_id}
            added = client.post("/api/v2", data={"key": api_key, "action": "add", "service": service, "link": LINK,
                                                 "quantity": 100}, headers=headers)  # fmt: skip
            assert added.headers["x-request-id"] == request_id
            client.get("/api/v2", params={"key": api_key, "action": "status", "order": added.json()["order"]})
            client.post("/api/v2", json={"key": api_key, "action": "balance", "api_key": api_key})
            assert client.post("/api/v2", data={"key": wrong_key, "action": "balance"}).json() == INVALID_KEY
            login = client.get("/login")
            failed = client.post("/login", data={"username": "alice", "password": wrong_password,
                                                 "csrf_token": _csrf(login.text)})  # fmt: skip
            assert failed.status_code == 400
            logged_in = client.post("/login", data={"username": "alice", "password": password,
                                                    "csrf_token": _csrf(failed.text)})  # fmt: skip
            assert logged_in.status_code in (302, 303), logged_in.status_code
            session_cookie = client.cookies.get("smmpanel_session")
            assert session_cookie
            client.get("/orders/new")
        wait_for(lambda: provider.received, "the engine to forward the order with the provider's key")
        assert provider.received[0].form["key"] == provider_key
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    finally:
        processes.stop_all()
        provider.stop()
        ops.close()
    output = processes.log(server)
    for secret in (api_key, wrong_key, password, wrong_password, provider_key, session_cookie, SECRET_KEY):
        assert secret not in output, f"a secret in the logs: {secret[:6]}…"
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(lines) >= 8
    traced = [line for line in lines if line.get("request_id") == request_id]
    assert [(line["method"], line["path"], line["action"], line["status"]) for line in traced] == [
        ("POST", "/api/v2", "add", 200)
    ]
    assert isinstance(traced[0]["duration_ms"], float | int)
    assert {"status", "balance", "add"} <= {line.get("action") for line in lines}
    assert any(line.get("path") == "/login" and line.get("status") == 400 for line in lines)


# --- backup and restore -----------------------------------------------------------------------


def count_orders(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:  # closed: an open one would hold the file "in use"
        return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])


SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE_ONLY  # PostgreSQL is backed up with pg_dump (see test_backup_and_restore_point_postgres_to_its_own_tools)
def test_backup_while_serving_then_restore_with_a_verified_ledger(
    database_url: str, start_server: StartServer, tmp_path: Path
) -> None:
    live = Path(database_url.removeprefix("sqlite:///"))
    server = start_server()
    ops = Panel(database_url, server.api_url)
    key = ops.customer(balance="1000")
    service = ops.service()
    cli = Cli(database_url, tmp_path)
    stop = threading.Event()
    placed: list[int] = []

    def keep_ordering() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                answer = client.post(server.api_url, data={"key": key, "action": "add", "service": service,
                                                           "link": LINK, "quantity": 100}).json()  # fmt: skip
                placed.append(answer["order"])

    orderer = threading.Thread(target=keep_ordering)
    orderer.start()
    try:
        wait_for(lambda: len(placed) >= 5, "orders to flow")
        made = cli.json("backup", str(tmp_path / "snapshot.db"))
        after_backup = len(placed)
        wait_for(lambda: len(placed) >= after_backup + 5, "more orders after the backup")
    finally:
        stop.set()
        orderer.join()
    snapshot = tmp_path / "snapshot.db"
    assert made == {"backup": str(snapshot), "bytes": snapshot.stat().st_size, "schema": made["schema"]}
    in_backup = count_orders(snapshot)
    assert 5 <= in_backup < len(placed)
    assert not Path(f"{snapshot}-wal").exists()  # one self-contained file
    assert Cli(f"sqlite:///{snapshot}", tmp_path).json("ledger", "verify") == {"ok": True, "mismatches": []}

    assert "exists" in cli.fails("backup", str(snapshot))
    assert "in use" in cli.fails("restore", str(snapshot))  # the panel is serving from it
    assert count_orders(live) == len(placed)

    server.stop()
    restored = cli.json("restore", str(snapshot))
    assert restored == {"ok": True, "restored": str(snapshot), "database": str(live), "schema": made["schema"]}
    assert count_orders(live) == in_backup
    assert cli.json("ledger", "verify") == {"ok": True, "mismatches": []}
    again = start_server()
    balance = httpx.post(again.api_url, data={"key": key, "action": "balance"}).json()["balance"]
    assert balance == format_amount(parse_amount("1000") - in_backup * parse_amount("0.09"))  # 100 at 0.90/1000


@SQLITE_ONLY
def test_restore_refuses_what_is_not_a_sound_smmpanel_database(database_url: str, tmp_path: Path) -> None:
    cli = Cli(database_url, tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
    assert "not an SQLite database" in cli.fails("restore", str(text))
    assert "not an smmpanel database (no alembic_version table)" in cli.fails("restore", str(other))
    assert "no file" in cli.fails("restore", str(tmp_path / "missing.db"))
    assert cli.json("ledger", "verify")["ok"] is True  # the live database is untouched


def test_backup_and_restore_point_postgres_to_its_own_tools(tmp_path: Path) -> None:
    cli = Cli("postgresql://postgres@127.0.0.1:5432/smmpanel", tmp_path)
    for command in ("backup", "restore"):
        error = cli.fails(command, str(tmp_path / "x.db"))
        assert "pg_dump" in error and "pg_restore" in error


# --- graceful shutdown ----------------------------------------------------------------------


def test_sigterm_finishes_requests_in_flight_and_requeues_claimed_unsent_orders(
    database_url: str, tmp_path: Path
) -> None:
    ops = Panel(database_url)
    key = ops.customer(balance="1000")
    service = ops.service()
    provider = MisbehavingProvider().start()
    provider.answer('{"order": 777}', delay=6.0)  # the one send in flight answers 6 s after it arrives
    add_provider(ops, "slow", provider.api_url, "provider-key")
    link(ops, service, "slow")
    customer_id = next(c.id for c in ops.run(accounts.list_customers) if c.username == "alice")
    params = {"service": str(service), "link": LINK, "quantity": "100"}
    for _ in range(4):
        ops.run(lambda db: orders.place_order(db, customer_id, params))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes = Background(database_url, tmp_path)
    answer: list[httpx.Response] = []
    failure: list[httpx.HTTPError] = []
    try:
        server = processes.start(
            "serve", "--port", str(port), provider_concurrency=1, engine_interval=0.1, sync_interval=600,
            provider_check_interval=0,  # no balance check: the first request the provider gets is the send
            log_format="text", secret_key=SECRET_KEY,
        )  # fmt: skip
        wait_until_up(base)
        wait_for(lambda: provider.received, "the first order to reach the provider")
        assert sorted(order.dispatch or "" for order in all_orders(ops)) == [CLAIMED] * 3 + [SENDING]  # one on the wire

        first_part_sent = threading.Event()

        def slow_body() -> Iterator[bytes]:
            yield f"key={key}&".encode()
            first_part_sent.set()  # asked for more: the headers and the first part are on the wire
            time.sleep(2.0)  # SIGTERM arrives while the request is still being read
            yield b"action=balance"

        def slow_request() -> None:
            try:
                answer.append(httpx.post(f"{base}/api/v2", content=slow_body(), timeout=30,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"}))  # fmt: skip
            except httpx.HTTPError as error:
                failure.append(error)

        client = threading.Thread(target=slow_request)
        client.start()
        assert first_part_sent.wait(timeout=10)
        time.sleep(0.5)  # for the server to read the request's head
        server.send_signal(signal.SIGTERM)
        client.join(timeout=30)
        # uvicorn shuts down gracefully, then re-raises the signal: ended by SIGTERM, as asked.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        processes.stop_all()
        provider.stop()
    log = processes.log(server)
    assert answer and answer[0].status_code == 200, (failure, log)
    assert answer[0].json() == {"balance": "999.64", "currency": "USD"}
    # Nothing was sent after SIGTERM (the pass in progress still ends: it may sync what it sent).
    assert [call.form["action"] for call in provider.received].count("add") == 1
    after = all_orders(ops)
    sent = [order for order in after if order.dispatch == SENT]
    assert [order.provider_order_id for order in sent] == ["777"]  # the send in flight was finished
    rest = [(order.dispatch, order.status.value, order.attempts) for order in after if order.dispatch != SENT]
    assert rest == [(QUEUED, "Pending", 0)] * 3  # claimed, never sent: queued again, not for the operator
    assert ATTENTION not in {order.dispatch for order in after}
    assert "3 claimed orders not sent yet are queued again" in log
    assert ops.ledger_ok()
    ops.close()
