"""Dashboard sessions end on the server: a copied cookie opens nothing after logout, a password
change, disabling, or "sign out everywhere"."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.web import WebUser, logged_in, with_cookie

PASSWORD = "correct horse"


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> tuple[Panel, LiveServer]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("10"), password=PASSWORD))
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    return panel, server


def opens(server: LiveServer, cookie: str, path: str = "/orders") -> bool:
    """Whether a browser holding only ``cookie`` sees the page (and is not sent to log in)."""
    with with_cookie(server.base_url, cookie) as copy:
        answer = copy.get(path)
    assert answer.status_code in (200, 303), answer.status_code
    return answer.status_code == 200


def test_a_copied_cookie_stops_working_after_logout(site: tuple[Panel, LiveServer]) -> None:
    _, server = site
    alice = logged_in(server.base_url, "alice", PASSWORD)
    copied = alice.cookie()
    assert opens(server, copied)
    assert alice.post("/logout").status_code == 303
    assert not opens(server, copied)
    assert not opens(server, copied, "/account/password")


def test_a_password_change_ends_every_other_session_but_keeps_this_one(site: tuple[Panel, LiveServer]) -> None:
    _, server = site
    here, elsewhere = (logged_in(server.base_url, "alice", PASSWORD) for _ in range(2))
    copied = elsewhere.cookie()
    answer = here.post(
        "/account/password",
        current_password=PASSWORD,
        new_password="a new password",
        new_password_again="a new password",
    )
    assert answer.status_code == 303
    assert here.http.get("/orders").status_code == 200
    assert not opens(server, copied)
    assert logged_in(server.base_url, "alice", "a new password").http.get("/orders").status_code == 200


def test_disabling_a_customer_ends_their_sessions_and_enabling_does_not_revive_them(
    site: tuple[Panel, LiveServer],
) -> None:
    panel, server = site
    copied = logged_in(server.base_url, "alice", PASSWORD).cookie()
    panel.run(lambda db: accounts.set_disabled(db, "alice", True))
    panel.run(lambda db: accounts.set_disabled(db, "alice", False))
    assert not opens(server, copied)


def test_the_operator_setting_a_password_ends_the_customers_sessions(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    copied = logged_in(server.base_url, "alice", PASSWORD).cookie()
    panel.run(lambda db: accounts.set_password(db, "alice", "another password"))
    assert not opens(server, copied)


def test_sign_out_everywhere_from_the_account_page(site: tuple[Panel, LiveServer]) -> None:
    _, server = site
    here, elsewhere = (logged_in(server.base_url, "alice", PASSWORD) for _ in range(2))
    boss = logged_in(server.base_url, "boss", PASSWORD)
    copies = [here.cookie(), elsewhere.cookie()]
    answer = here.post("/account/sessions/end")
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert not any(opens(server, copy) for copy in copies)
    assert opens(server, boss.cookie(), "/admin")  # only alice's sessions ended
    assert logged_in(server.base_url, "alice", PASSWORD).http.get("/orders").status_code == 200


def test_the_operator_signs_a_customer_out_everywhere(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    copied = logged_in(server.base_url, "alice", PASSWORD).cookie()
    alice_id = panel.run(lambda db: accounts.log_in(db, "alice", PASSWORD)).id
    boss = logged_in(server.base_url, "boss", PASSWORD)
    answer = boss.post(f"/admin/customers/{alice_id}/sessions/end")
    assert answer.status_code == 303
    assert "signed out everywhere (1 session ended)" in boss.http.get(answer.headers["location"]).text
    assert not opens(server, copied)
    assert opens(server, boss.cookie(), "/admin")
    audit = boss.http.get("/admin/audit").text
    assert "customer.end_sessions" in audit and "customer alice" in audit


def test_a_customer_cannot_sign_others_out_from_the_operators_form(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    boss = logged_in(server.base_url, "boss", PASSWORD)
    boss_id = panel.run(lambda db: accounts.log_in(db, "boss", PASSWORD)).id
    alice = logged_in(server.base_url, "alice", PASSWORD)
    assert alice.post(f"/admin/customers/{boss_id}/sessions/end").status_code == 404
    assert opens(server, boss.cookie(), "/admin")


def test_a_forged_session_id_is_refused(site: tuple[Panel, LiveServer]) -> None:
    _, server = site
    visitor = WebUser(server.base_url)
    assert visitor.http.get("/orders").status_code == 303
    visitor.close()
    assert not opens(server, "not-a-signed-cookie")
