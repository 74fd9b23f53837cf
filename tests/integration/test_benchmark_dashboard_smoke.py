"""The dashboard benchmark still runs end to end: tiny, and without any timing assertion.

The customer and the operator log in through the real ``/login`` form; every scenario's page
is first checked by hand (HTTP 200, its table, a deep page's pager links, a searched link);
then, where ``wrk`` is installed (CI installs it), each is driven by wrk with the session
cookie for a handful of requests, every one of which must be a page with its table.
"""

from __future__ import annotations

import shutil

from benchmarks.dashboard import SCENARIOS, main
from tests.support.databases import POSTGRES_ADMIN_URL


def test_every_order_list_answers_its_page_on_both_levels(database_url: str) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    args = ["--backends", backend, "--levels", "3000,6000", "--customers", "20", "--catalog", "30"]
    args += ["--requests", "20", "--concurrency", "2", "--repeat", "1", "--workers", "2"]
    args += ["--postgres-url", POSTGRES_ADMIN_URL]
    if shutil.which("wrk") is None:
        args.append("--no-wrk")
    runs = main(args)
    assert [(run.level, run.scenario) for run in runs] == [(level, s) for level in (3000, 6000) for s in SCENARIOS]
    if shutil.which("wrk") is None:
        return
    for run in runs:
        assert run.requests >= 5, run
        assert (run.non_2xx, run.json_errors, run.socket_errors) == (0, 0, 0), run
        assert run.p50_ms > 0, run
