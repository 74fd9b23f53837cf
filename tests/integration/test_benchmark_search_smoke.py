"""The search benchmark still runs end to end on a small database of each back end, and its searches find
what its data holds (no timing assertion): the fragments it names come from ``benchmarks.links``
without reading the database back, so a search that found nothing where one order has the fragment
would be a benchmark of the wrong question."""

from __future__ import annotations

import secrets
from pathlib import Path

from benchmarks.search import main
from tests.support.databases import POSTGRES_ADMIN_URL


def test_every_search_runs_and_the_rare_ones_find_their_order(database_url: str, tmp_path: Path) -> None:
    sqlite = database_url.startswith("sqlite")  # the benchmark makes its own database of that back end
    if sqlite:
        common = ["--backend", "sqlite", "--sqlite-path", str(tmp_path / "search.sqlite")]
    else:
        common = ["--database", f"smmpanel_search_smoke_{secrets.token_hex(4)}", "--postgres-url", POSTGRES_ADMIN_URL]
    try:
        found = main([*common, "--orders", "4000", "--customers", "50", "--plans", str(tmp_path / "plans.txt")])
    finally:
        main([*common, "--drop"])
    for search in ("a post's code", "a video id", "whole post link pasted", "whole video link pasted"):
        assert found[f"link rare: {search}"] == 1, search
    assert found["upstream id"] == found["order id"] == 1
    assert found["link rare: in no order"] == found["link short: in no order"] == 0
    assert found["link pathological: bench<id>"] == found["link pathological: pasted"] == 1
    assert found["link common: tiktok.com/@"] == 50  # a full page
    assert found["customer: 1 % of the orders"] == 40
    assert found["link short: p/"] == 50  # among the newest orders: all 4,000 here
    assert found["link medium: a popular username + customer bench"] <= found["customer: 1 % of the orders"]
    assert ("SEARCH orders" if sqlite else "Execution Time") in (tmp_path / "plans.txt").read_text()
    assert not (tmp_path / "search.sqlite").exists()  # --drop removed it
