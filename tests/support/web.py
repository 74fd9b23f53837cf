"""A dashboard user over real HTTP: an httpx client that logs in through the form and keeps its cookie."""

from __future__ import annotations

import re
from typing import Any

import httpx

COOKIE = "smmpanel_session"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebUser:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)

    def token(self, path: str = "/login") -> str:
        found = _CSRF.search(self.http.get(path).text)
        assert found is not None, f"{path} has no CSRF token"
        return found.group(1)

    def log_in(self, username: str, password: str) -> httpx.Response:
        return self.http.post("/login", data={"csrf_token": self.token(), "username": username, "password": password})

    def post(self, path: str, *, token_from: str = "/account/password", **fields: Any) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.token(token_from), **fields})

    def cookie(self) -> str:
        value = self.http.cookies.get(COOKIE)
        assert value, "not logged in"
        return value

    def close(self) -> None:
        self.http.close()


def with_cookie(base_url: str, cookie: str) -> httpx.Client:
    """A second browser holding a copy of someone's session cookie."""
    return httpx.Client(base_url=base_url, timeout=60, cookies={COOKIE: cookie})


def logged_in(base_url: str, username: str, password: str) -> WebUser:
    user = WebUser(base_url)
    answer = user.log_in(username, password)
    assert answer.status_code == 303, answer.text[:2000]
    return user
