"""The engine benchmark's levels and the explain report still run end to end (tiny, no timing assertion).

At two levels of finished orders the same small queue is forwarded and synced, each order once;
the explain report printed at each level covers every operator page and an engine pass with
work of every kind due, and none of them failed.
"""

from __future__ import annotations

import re

import pytest

from benchmarks.engine import main
from benchmarks.explain import DOWNLOADS, FILTERED
from smmpanel.web.admin import routes as admin_routes
from tests.support.databases import POSTGRES_ADMIN_URL

LEVELS = (200, 400)
QUEUE = 20


def test_the_same_queue_is_handled_once_at_every_level_and_every_page_is_explained(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    args = ["--backend", backend, "--levels", ",".join(map(str, LEVELS)), "--queue", str(QUEUE)]
    args += ["--customers", "7", "--providers", "3", "--scenarios", "sync,forward", "--explain", "--timeout", "120"]
    results = main([*args, "--postgres-url", POSTGRES_ADMIN_URL])
    assert [(r.level, r.scenario) for r in results] == [(level, s) for level in LEVELS for s in ("sync", "forward")]
    for result in results:
        assert (result.done, result.errors, result.timed_out, result.ledger_ok) == (QUEUE, 0, False, True), result
        assert result.calls.get("add", 0) == (QUEUE if result.scenario == "forward" else 0), result
    out = capsys.readouterr().out
    assert "÷ first level" in out
    report = [line for line in out.splitlines() if line.startswith("# explain ")]
    assert report, out[-2000:]
    assert not [line for line in report if "FAILED" in line]
    explained = {line.removeprefix("# explain ").split(":")[0] for line in report}
    paths = [(getattr(route, "path", ""), getattr(route, "methods", None) or ()) for route in admin_routes]
    bare = {path for path, methods in paths if "GET" in methods and "{" not in path and path not in DOWNLOADS}
    assert {f"page {path}" for path in [*bare, *FILTERED]} <= explained
    assert {"page /admin/customers/", "page /admin/orders/"} <= {re.sub(r"\d+$", "", name) for name in explained}
    assert {"metrics", "overview", "admin-search-link", "export-orders", "export-ledger"} <= explained
    assert "engine-archive-batch" in explained
    engine = " ".join(line for line in report if line.startswith("# explain engine-pass (every kind due)"))
    kinds = ("UPDATE orders SET dispatch", "provider_order_id", "cancel_state", "refills", "runs_done", "checked_at")
    for work in (*kinds, "mail_queue"):  # sends, syncs, cancels, refills, drip-feed runs, provider checks, mail
        assert work in engine, work
