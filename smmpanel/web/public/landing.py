"""``/`` for a visitor: what the panel sells, a few figures, and the way in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.usecases import storefront
from smmpanel.web.pages import render
from smmpanel.web.public.caching import cache_for
from smmpanel.web.security import context_of

CATEGORIES_SHOWN = 12


async def landing(request: Request) -> Response:
    figures = await storefront.headline(context_of(request).database)
    page = render(
        request,
        "public/landing.html",
        None,
        figures=figures,
        categories=figures.categories[:CATEGORIES_SHOWN],
    )
    return cache_for(page, visitor=True)
