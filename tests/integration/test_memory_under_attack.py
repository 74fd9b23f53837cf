"""The serving process's memory stays flat under what an outside test threw at it.

The panel runs as its own process (``smmpanel serve``) and the test reads that process's
resident memory: a warm-up first (so that caches and allocator pools exist), then the attack.
"""

from __future__ import annotations

from pathlib import Path

from smmpanel.usecases import accounts
from tests.support.panel import Panel
from tests.support.served import ServedPanel, served_panel
from tests.support.web import WebUser

MB = 1024 * 1024
HUGE = 1_000_000
"""Characters of each attack username: under the body limit, so each one reaches the login form."""
ALLOWED_GROWTH = 24 * MB


def failed_logins_with_huge_usernames(panel: ServedPanel, count: int, offset: int) -> None:
    user = WebUser(panel.base_url)
    try:
        token = user.token()
        for number in range(offset, offset + count):
            username = f"{number}-" + "x" * HUGE
            fields = {"csrf_token": token, "username": username, "password": "a wrong guess"}
            answer = user.http.post("/login", data=fields)
            assert answer.status_code == 400, answer.text[:500]
            assert "Invalid username or password" in answer.text
            assert len(answer.content) < 64 * 1024  # the name is not echoed back either
    finally:
        user.close()


def test_memory_stays_flat_under_200_failed_logins_with_huge_usernames(database_url: str, tmp_path: Path) -> None:
    Panel(database_url).run(lambda db: accounts.create_customer(db, "boss", password="correct horse", admin=True))
    with served_panel(database_url, tmp_path) as panel:
        failed_logins_with_huge_usernames(panel, 20, 0)
        before = panel.rss_bytes()
        failed_logins_with_huge_usernames(panel, 200, 20)
        growth = panel.rss_bytes() - before
        assert growth < ALLOWED_GROWTH, f"the panel grew by {growth / MB:.0f} MB"
        owner = WebUser(panel.base_url)
        assert owner.log_in("boss", "correct horse").status_code == 303
        owner.close()
