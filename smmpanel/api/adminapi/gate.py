"""What every admin API request passes before its handler: body size, key, rate limit, role.

The rate limit is per admin key (``SMMPANEL_ADMIN_API_RATE_LIMIT``, 5/s by default, what
PerfectPanel's own clients throttle themselves to), counted with API v2's stores: in this
process, or in Redis when ``SMMPANEL_REDIS_URL`` is set. Failed keys count against the
client's address with API v2's ``SMMPANEL_INVALID_KEY_LIMIT``, so guessing a key is as
slow here as there.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.api.adminapi.envelope import (
    FORBIDDEN,
    INVALID_KEY,
    NOT_FOUND,
    REFUSED,
    TOO_LARGE,
    TOO_MANY,
    ApiError,
    Params,
)
from smmpanel.api.limit_store import Counter, LimitStore, MemoryStore, RedisStore, Take
from smmpanel.api.params import TransportError
from smmpanel.api.params import read_body as read_limited_body
from smmpanel.config import Settings
from smmpanel.db.admin_api_repositories import AdminKey
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import NotFound, Refused
from smmpanel.usecases.admin_keys import allows, authenticate_key


class AdminLimiter:
    def __init__(self, settings: Settings, store: LimitStore | None = None) -> None:
        self._per_key = settings.admin_api_rate()
        self._failures = settings.invalid_key_rate()
        if store is None:
            store = RedisStore(settings.redis_url) if settings.redis_url else MemoryStore()
        self._store = store

    async def check(self, address: str, key: AdminKey | None) -> int | None:
        """Count one request; None when it may go on, else the seconds to wait."""
        failures = None
        if self._failures is not None:
            failures = Counter(f"adminapi-f:{address}", self._failures.count, self._failures.period)
        counters: tuple[Counter, ...] = ()
        if key is not None and self._per_key is not None:
            counters = (Counter(f"adminapi-k:{key.id}", self._per_key.count, self._per_key.period),)
        if failures is None and not counters:
            return None
        return await self._store.take(Take(failures, key is None, counters), time.time())

    async def aclose(self) -> None:
        await self._store.aclose()


@dataclass(frozen=True)
class Call:
    """One authenticated admin API request."""

    db: Database
    key: AdminKey
    params: Params
    settings: Settings
    request: Request


Handler = Callable[[Call], Awaitable[Response]]


async def read_body(request: Request, settings: Settings) -> bytes:
    try:
        return await read_limited_body(request, settings.max_body_bytes)
    except TransportError as error:
        raise ApiError(TOO_LARGE, error.message, status_code=error.status_code) from None


async def admit(request: Request, key_text: str | None, area: str, *, write: bool) -> AdminKey:
    """The request's key, once it passed the rate limit and its role allows reading (or changing) ``area``."""
    state = request.app.state
    key = await authenticate_key(state.db, key_text)
    address = request.client.host if request.client else "unknown"
    retry_after = await state.admin_limits.check(address, key)
    if retry_after is not None:
        raise ApiError(TOO_MANY, "Too many requests", status_code=429, retry_after=retry_after)
    if key is None:
        raise ApiError(INVALID_KEY, "Invalid API key")
    if not allows(key.role, area, write=write):
        doing = "changing" if write else "reading"
        raise ApiError(FORBIDDEN, f"The key's role ({key.role}) does not allow {doing} {area}")
    return key


async def guarded(work: Callable[[], Awaitable[Response]], failure: Callable[[ApiError], Response]) -> Response:
    """Run ``work``; every error the panel raises on purpose becomes an error answer."""
    try:
        return await work()
    except ApiError as error:
        return failure(error)
    except NotFound as error:
        return failure(ApiError(NOT_FOUND, str(error)))
    except Refused as error:
        return failure(ApiError(REFUSED, error.message))
