"""The load and soak script, short: every fault strikes once and nothing may be lost (no timing assertion)."""

from __future__ import annotations

import pytest

from benchmarks.soak import DB_RESTART, main
from tests.support.databases import POSTGRES_ADMIN_URL, PostgresRun


@pytest.mark.postgres
def test_a_short_soak_on_postgres_loses_nothing(postgres_run: PostgresRun | None) -> None:
    if postgres_run is None:
        pytest.skip("PostgreSQL unavailable")
    result = main(["--duration", "15", "--drain", "40", "--rate", "30", "--postgres-url", POSTGRES_ADMIN_URL])
    assert result.problems == []
    assert result.ledger_verified
    assert [phase for _, phase, _ in result.events] == [
        "worker killed",
        DB_RESTART,
        "provider slow",
        "all workers killed",
        "provider fast",
        "provider errors",
        "after",
    ]
    assert result.record.accepted  # the load really ordered
    assert {sample.action for sample in result.record.samples} >= {"add", "status-1", "status-many", "balance"}
    assert result.drained_in is not None, result.findings.lines
