"""Security headers on every answer: no framing (clickjacking), no MIME sniffing, no referrer
leaking paths to other sites, and a Content-Security-Policy that lets pages run only the
panel's own script and style files (the templates have no inline script or style).

A page that needs an outside source (Stripe.js on ``/funds``, say) widens the policy for that
one answer only::

    extend_csp(request, script_src=[stripe_js_url], frame_src=[stripe_js_url])

before it returns its response; every other page keeps the strict policy.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_EXTRA = "smmpanel.csp"
BASE_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
EXTENDABLE = frozenset({"script-src", "style-src", "img-src", "connect-src", "frame-src", "form-action"})
FIXED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def extend_csp(
    request: Request,
    *,
    script_src: Iterable[str] = (),
    style_src: Iterable[str] = (),
    img_src: Iterable[str] = (),
    connect_src: Iterable[str] = (),
    frame_src: Iterable[str] = (),
    form_action: Iterable[str] = (),
) -> None:
    """Allow more sources in this one response's policy (origins such as ``https://js.stripe.com``)."""
    extra: dict[str, list[str]] = request.scope.setdefault(_EXTRA, {})
    asked = {
        "script-src": script_src,
        "style-src": style_src,
        "img-src": img_src,
        "connect-src": connect_src,
        "frame-src": frame_src,
        "form-action": form_action,
    }
    for directive, sources in asked.items():
        for source in sources:
            if not source or any(c in source for c in " ;,'\r\n"):
                raise ValueError(f"not a CSP source: {source!r}")
            extra.setdefault(directive, []).append(source)


def policy(extra: dict[str, list[str]] | None = None) -> str:
    directives = []
    for directive, sources in BASE_POLICY.items():
        added = (extra or {}).get(directive, []) if directive in EXTENDABLE else []
        kept = [source for source in sources if source != "'none'"] if added else sources
        directives.append(" ".join([directive, *kept, *dict.fromkeys(added)]))
    return "; ".join(directives)


STRICT_POLICY = policy()
_STRICT = [(name.lower().encode(), value.encode()) for name, value in FIXED_HEADERS.items()]
_STRICT.append((b"content-security-policy", STRICT_POLICY.encode()))
"""Every header this middleware adds to an answer that has none of them, as ASGI's raw pairs."""


def _add_missing(message: Message, extra: dict[str, list[str]] | None) -> None:
    """Each of the headers that the answer does not set itself (the answer's own value wins)."""
    if extra:
        headers = MutableHeaders(scope=message)
        for name, value in FIXED_HEADERS.items():
            headers.setdefault(name, value)
        headers.setdefault("Content-Security-Policy", policy(extra))
        return
    raw = list(message.get("headers", ()))
    present = {bytes(name).lower() for name, _ in raw}
    raw += [pair for pair in _STRICT if pair[0] not in present]
    message["headers"] = raw


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_missing(message, scope.get(_EXTRA))
            await send(message)

        await self.app(scope, receive, with_headers)
