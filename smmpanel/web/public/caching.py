"""What a browser may keep of a storefront page.

A visitor's page is the same for every visitor with the same cookies (the display currency), so
their browser may reuse it for a minute (``private``: it carries a session cookie, so no shared
cache may keep it; the session middleware adds ``Vary: Cookie``). A logged-in customer's shows
their own rates and balance: never kept.
"""

from __future__ import annotations

from starlette.responses import Response

VISITOR_SECONDS = 60


def cache_for(response: Response, *, visitor: bool) -> Response:
    if visitor:
        response.headers["Cache-Control"] = f"private, max-age={VISITOR_SECONDS}"
    else:
        response.headers["Cache-Control"] = "private, no-store"
    return response
