"""The order engine benchmark still runs end to end (tiny, and without any timing assertion)."""

from __future__ import annotations

from benchmarks.engine import SCENARIOS, main
from tests.support.databases import POSTGRES_ADMIN_URL


def test_the_engine_benchmark_handles_every_order_once(database_url: str) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    orders = 50
    args = ["--backend", backend, "--orders", str(orders), "--workers", "1", "--timeout", "120", "--quiet"]
    results = main([*args, "--postgres-url", POSTGRES_ADMIN_URL])
    assert [result.scenario for result in results] == list(SCENARIOS)
    for result in results:
        assert (result.done, result.errors, result.timed_out, result.ledger_ok) == (orders, 0, False, True), result
    sync, unchanged, forward = results
    assert sync.calls["status"] == unchanged.calls["status"] == 1  # 50 ids fit one call
    assert forward.calls["add"] == orders  # each order sent exactly once
