"""Dashboard sessions for members of staff: log in (with a TOTP code when asked), keep the CSRF token."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pyotp

PASSWORD = "correct horse"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """An httpx client with cookies, reading the CSRF token from the last page that carried one."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)
        self.token = ""

    def get(self, path: str) -> httpx.Response:
        page = self.http.get(path)
        found = CSRF.search(page.text)
        if found:
            self.token = found.group(1)
        return page

    def post(self, path: str, *, csrf: bool = True, **fields: Any) -> httpx.Response:
        if csrf and not self.token:
            self.get("/login")
        data = {**fields, **({"csrf_token": self.token} if csrf else {})}
        return self.http.post(path, data=data)

    def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code == 303, response.text[:3000]
        return self.get(response.headers["location"])

    def log_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        self.get("/login")
        return self.post("/login", username=username, password=password)

    def close(self) -> None:
        self.http.close()


def code_for(secret: str, *, steps_ahead: int = 0) -> str:
    """The TOTP code of a step: ``steps_ahead`` = 1 is the next 30 s step's (still accepted: drift)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def secret_on(page: httpx.Response) -> str:
    found = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.text)
    assert found is not None, page.text[:3000]
    return found.group(1)


def recovery_codes_on(page: httpx.Response) -> list[str]:
    found = re.search(r'<pre id="recovery-codes">([^<]+)</pre>', page.text)
    assert found is not None, page.text[:3000]
    return found.group(1).split()
