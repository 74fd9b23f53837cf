"""The sustained-``add`` benchmark (issue 17) still runs end to end: tiny, and without any timing assertion.

Two customer counts, three 1-second slices each, against ``python -m smmpanel serve`` on the
test's back end (``wrk`` is installed with apt-get if missing, as for the API benchmark);
``autovacuum`` is left as the server has it (``--autovacuum server``), so the test never
changes a setting of a shared PostgreSQL. Every slice must have printed its line, every
order must have been placed (no non-2xx, no ``error``), and the light poller and the
after-load ``wrk`` must have measured ``balance`` and ``status``.
"""

from __future__ import annotations

import re

import pytest

from benchmarks.decay import main
from tests.support.databases import POSTGRES_ADMIN_URL

SLICE_LINE = re.compile(r"customers=(\d+) +slice +(\d+) +[\d.]+ orders/s p50 +[\d.]+ p99 +[\d.]+ ms bad 0 \| balance")


def test_every_slice_prints_its_line(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    args = ["--backends", backend, "--minutes", "0.05", "--slice", "1", "--loads", "1,10", "--orders", "300"]
    args += ["--autovacuum", "server", "--concurrency", "2", "--after", "1", "--postgres-url", POSTGRES_ADMIN_URL]
    results = main(args)
    printed = [(int(m[1]), int(m[2])) for m in SLICE_LINE.finditer(capsys.readouterr().out)]
    assert printed == [(customers, n) for customers in (1, 10) for n in (1, 2, 3)]
    assert [(r.backend, r.customers, len(r.slices)) for r in results] == [(backend, 1, 3), (backend, 10, 3)]
    for result in results:
        assert all(part.orders > 0 and part.bad == 0 for part in result.slices), result
        for name in ("balance", "status"):
            assert sum(part.poll[name][0] for part in result.slices) > 0, result
        assert set(result.after) == {"balance", "status"} and all(rps > 0 for rps, _, _ in result.after.values())
        if backend == "postgres":
            assert all({"users", "orders", "ledger_entries"} <= set(part.tables) for part in result.slices), result
