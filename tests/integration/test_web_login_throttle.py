"""The login throttle over real HTTP: guessers are stopped, the owner is never locked out.

Addresses are told through ``X-Forwarded-For``, which uvicorn takes from loopback (as from a
reverse proxy on the same machine).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from smmpanel.usecases import accounts
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.web import WebUser

PASSWORD = "correct horse"


@pytest.fixture
def server(database_url: str, start_server: Callable[..., LiveServer]) -> LiveServer:
    server = start_server()
    Panel(database_url).run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    return server


def attempt(server: LiveServer, address: str, username: str, password: str) -> httpx.Response:
    user = WebUser(server.base_url)
    user.http.headers["X-Forwarded-For"] = address
    try:
        return user.log_in(username, password)
    finally:
        user.close()


@pytest.mark.parametrize("guesses", [5, 50])
def test_the_right_password_works_right_after_wrong_guesses_from_elsewhere(server: LiveServer, guesses: int) -> None:
    statuses = [attempt(server, "10.0.0.1", "boss", f"guess {n}").status_code for n in range(guesses)]
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) <= {429}
    assert attempt(server, "10.0.0.1", "boss", PASSWORD).status_code == 429  # the guesser is stopped
    assert attempt(server, "192.0.2.7", "boss", PASSWORD).status_code == 303


def test_guesses_spread_over_many_addresses_never_lock_the_owner_out(server: LiveServer) -> None:
    for number in range(50):
        answer = attempt(server, f"10.0.1.{number}", "BoSs", "a wrong guess")
        assert answer.status_code == 400
    again = attempt(server, "10.0.1.0", "boss", "another guess")
    assert again.status_code == 429 and "Too many login attempts" in again.text  # a guesser must slow down
    assert attempt(server, "192.0.2.7", "boss", PASSWORD).status_code == 303


def test_guesses_sent_all_at_once_are_counted_too(server: LiveServer) -> None:
    forms = []
    for _ in range(30):
        user = WebUser(server.base_url)
        user.http.headers["X-Forwarded-For"] = "10.0.2.1"
        forms.append((user, user.token()))

    def guess(form: tuple[WebUser, str]) -> int:
        user, token = form
        fields = {"csrf_token": token, "username": "boss", "password": "a parallel guess"}
        return user.http.post("/login", data=fields).status_code

    with ThreadPoolExecutor(len(forms)) as pool:
        statuses = list(pool.map(guess, forms))
    for user, _ in forms:
        user.close()
    assert statuses.count(400) == 5 and statuses.count(429) == 25
    assert attempt(server, "192.0.2.7", "boss", PASSWORD).status_code == 303
