"""Someone on the dashboard over real HTTP, logged in or not: cookies kept, each form's CSRF token read
from the page that shows the form."""

from __future__ import annotations

import re

import httpx


class Visitor:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def submit(self, page: str, action: str, **fields: str) -> httpx.Response:
        """Open ``page`` and post its form to ``action`` with ``fields`` (redirects not followed)."""
        shown = self.http.get(page)
        found = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
        assert found is not None, shown.text[:500]
        return self.http.post(action, data={"csrf_token": found.group(1), **fields})

    def log_in(self, username: str, password: str) -> None:
        answer = self.submit("/login", "/login", username=username, password=password)
        assert answer.status_code == 303, answer.text[:500]

    def sign_up(self, username: str, password: str, email: str) -> httpx.Response:
        return self.submit(
            "/signup", "/signup", username=username, password=password, password_again=password, email=email
        )

    def close(self) -> None:
        self.http.close()
