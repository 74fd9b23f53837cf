"""The panel's branding on the wire: its colours as a stylesheet, its logo and favicon, and the
operator's contact and terms pages.

The CSP allows no inline style, so the colours come as ``/theme.css?v=VERSION`` (CSS custom
properties over panel.css's defaults); images are served from the database with the content
type sniffed at upload, so a browser never guesses one. ``BrandingLoader`` puts the branding
in every request's scope, for the layout (``render``) to show without a query of its own.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from smmpanel.domain.branding import Branding, ThemeMode, paragraphs
from smmpanel.usecases import branding
from smmpanel.web.context import WebContext
from smmpanel.web.pages import BRANDING_SCOPE, render
from smmpanel.web.security import context_of, current_user

DEFAULT_FAVICON = (Path(__file__).parent / "static" / "favicon.ico").read_bytes()
LONG_CACHE = "public, max-age=31536000, immutable"
"""For addresses that carry the version of what they serve: a new upload is a new address."""
SHORT_CACHE = "public, max-age=300"
DARK = {
    "--ink": "#e5e7eb",
    "--muted": "#98a2b3",
    "--line": "#344054",
    "--bg": "#0b1220",
    "--card": "#111827",
    "--soft": "#1f2937",
    "--edge": "#475467",
}


class BrandingLoader:
    """Reads the (cached) branding once per request, before the page is made."""

    def __init__(self, app: ASGIApp, context: WebContext) -> None:
        self._app = app
        self._context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._context.db is not None:
            scope[BRANDING_SCOPE] = await branding.current(self._context.db)
        await self._app(scope, receive, send)


def _rules(selector: str, values: dict[str, str]) -> str:
    body = " ".join(f"{name}: {value};" for name, value in values.items())
    return f"{selector} {{ {body} }}\n"


def theme_css(brand: Branding) -> str:
    """The stylesheet of the operator's colours; the values passed ``#rrggbb`` checks when stored."""
    colours = {"--brand": brand.primary, "--accent": brand.accent}
    css = _rules(":root", colours)
    if brand.theme is ThemeMode.DARK:
        css += _rules(":root", {**DARK, "color-scheme": "dark"})
    elif brand.theme is ThemeMode.AUTO:
        css += "@media (prefers-color-scheme: dark) {\n" + _rules(":root", {**DARK, "color-scheme": "dark"}) + "}\n"
    return css


async def theme(request: Request) -> Response:
    brand = await branding.current(context_of(request).database)
    versioned = request.query_params.get("v") == brand.version
    headers = {"Cache-Control": LONG_CACHE if versioned else "no-cache"}
    return Response(theme_css(brand), media_type="text/css; charset=utf-8", headers=headers)


async def _image_response(request: Request, kind: str, fallback: bytes | None) -> Response:
    found = await branding.image(context_of(request).database, kind)
    if found is None:
        if fallback is None:
            return Response(status_code=404, headers={"Cache-Control": "no-cache"})
        return Response(fallback, media_type="image/x-icon", headers={"Cache-Control": SHORT_CACHE})
    versioned = request.query_params.get("v") == found.version
    headers = {"Cache-Control": LONG_CACHE if versioned else SHORT_CACHE, "ETag": f'"{found.version}"'}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(found.data, media_type=found.content_type, headers=headers)


async def favicon(request: Request) -> Response:
    """The operator's favicon, else the built-in one: ``/favicon.ico`` never answers 404."""
    return await _image_response(request, "favicon", DEFAULT_FAVICON)


async def logo(request: Request) -> Response:
    return await _image_response(request, "logo", None)


async def _text_page(request: Request, kind: str) -> Response:
    brand = await branding.current(context_of(request).database)
    text = brand.contact if kind == "contact" else brand.terms
    user = await current_user(request)
    return render(request, "public_text.html", user, kind=kind, paragraphs=paragraphs(text))


async def contact(request: Request) -> Response:
    return await _text_page(request, "contact")


async def terms(request: Request) -> Response:
    return await _text_page(request, "terms")


routes = [
    Route("/theme.css", theme, methods=["GET"]),
    Route("/favicon.ico", favicon, methods=["GET"]),
    Route("/brand/logo", logo, methods=["GET"]),
    Route("/contact", contact, methods=["GET"]),
    Route("/terms", terms, methods=["GET"]),
]
