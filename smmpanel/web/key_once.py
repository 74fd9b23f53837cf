"""An API key shown once: carried in the session from where it was made to the one page that shows it.

Signup and "Generate a new key" (a POST, then a redirect) hold the key; the next API page takes it.
Read once, then gone: reloading that page shows (and rotates) nothing. The session cookie is signed,
HttpOnly and SameSite, and carries the key only until that page is seen.
"""

from __future__ import annotations

from starlette.requests import Request

KEY_ONCE = "api_key_once"


def hold_key_once(request: Request, key: str) -> None:
    """Keep ``key`` for this browser's next API page only."""
    request.session[KEY_ONCE] = key


def take_key_once(request: Request) -> str | None:
    """The key held for this page, if any; it is not held any longer."""
    key = request.session.pop(KEY_ONCE, None)
    return key if isinstance(key, str) else None
