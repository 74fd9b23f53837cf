"""The pure parts of operations: limit parsing, counting windows, log redaction, metric labels."""

from __future__ import annotations

import asyncio

import pytest

from smmpanel import metrics
from smmpanel.api import v2
from smmpanel.api.limit_store import Counter, MemoryStore, Take
from smmpanel.config import API_ACTIONS, RateLimit, Settings, parse_rate_limits
from smmpanel.domain import messages as msg
from smmpanel.logging_setup import redact


def test_rate_limits_parse_per_action_with_a_default() -> None:
    assert parse_rate_limits("add=60/minute, status=120/minutes,services=10/hour,*=5/second") == {
        "add": RateLimit(60, 60),
        "status": RateLimit(120, 60),
        "services": RateLimit(10, 3600),
        "*": RateLimit(5, 1),
    }
    assert parse_rate_limits("") == {}
    assert set(v2.ACTIONS) == API_ACTIONS


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("add=60", "'60' is not a rate"),
        ("add=60/week", "'60/week' is not a rate"),
        ("add=0/day", "at least 1"),
        ("bogus=1/day", "unknown action 'bogus'"),
        ("add", "write ACTION=COUNT/UNIT"),
        ("add=1/day,add=2/day", "limited twice"),
    ],
)
def test_a_malformed_rate_limit_says_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_rate_limits(text)
    with pytest.raises(ValueError, match=error):
        Settings(rate_limits=text)


def test_invalid_key_limit_defaults_on_and_turns_off() -> None:
    assert Settings().invalid_key_rate() == RateLimit(30, 60)
    assert Settings(invalid_key_limit="off").invalid_key_rate() is None


def test_the_memory_store_counts_in_fixed_windows() -> None:
    store = MemoryStore()
    take = Take(None, False, (Counter("k:1:add", 2, 60),))

    async def run() -> list[int | None]:
        at = 6000.0  # a window starts here
        return [
            await store.take(take, at),
            await store.take(take, at + 10),
            await store.take(take, at + 20),  # third in the window: wait the 40 s left
            await store.take(take, at + 60),  # a new window
        ]

    assert asyncio.run(run()) == [None, None, 40, None]


def test_failed_keys_refuse_everyone_from_the_address_once_past_the_limit() -> None:
    store = MemoryStore()
    failures = Counter("f:10.0.0.1", 2, 60)

    async def run() -> list[int | None]:
        return [
            await store.take(Take(failures, False, ()), 0.0),  # a good key only reads the count
            await store.take(Take(failures, True, ()), 1.0),
            await store.take(Take(failures, True, ()), 2.0),
            await store.take(Take(failures, True, ()), 3.0),
            await store.take(Take(failures, False, ()), 4.0),  # now a good key is refused too
        ]

    assert asyncio.run(run()) == [None, None, None, 57, 56]


@pytest.mark.parametrize(
    "line",
    [
        "POST /api/v2?key=SECRETVALUE&action=add",
        '{"key": "SECRETVALUE", "action": "add"}',
        "{'api_key': 'SECRETVALUE'}",
        "password=SECRETVALUE",
        "form: csrf_token=SECRETVALUE; x",
    ],
)
def test_redaction_blanks_secret_values(line: str) -> None:
    assert "SECRETVALUE" not in redact(line)
    assert "***" in redact(line)


def test_metric_labels_are_a_small_fixed_set() -> None:
    errors = [value for name, value in vars(msg).items() if name.isupper() and isinstance(value, str)]
    errors += [msg.quantity_below_min(50), msg.quantity_above_max(10), "Malformed request: x", "anything else"]
    assert {metrics.outcome_of(error, 200) for error in errors} <= metrics.OUTCOMES
    assert metrics.outcome_of(None, 200) == "ok"
    assert metrics.outcome_of(None, 503) == "server_error"
    assert metrics.action_label("add") == "add"
    assert metrics.action_label("key=SECRET") == "unknown"
