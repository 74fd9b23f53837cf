"""API v2 rate limits: per API key and per client address, per action, off until configured.

The endpoint asks once per request, after the key was looked up (so that a failed key
can be counted) and before the action runs. That one question is one Redis round
trip when Redis is configured (``SMMPANEL_REDIS_URL``), a dictionary lookup otherwise.

Failed keys: past ``SMMPANEL_INVALID_KEY_LIMIT`` failed keys from one address in a
window, *every* request from that address is answered 429 until the window ends,
whatever key it carries. Refusing only the wrong keys would tell a guesser the right
one by its different answer; refusing them all tells nothing.

Without Redis each process counts for itself; PostgreSQL is not used for counters, so
with ``serve --workers N`` or several machines the limits are shared only through Redis.
"""

from __future__ import annotations

import time

import orjson
from starlette.responses import Response

from smmpanel.api.limit_store import Counter, LimitStore, MemoryStore, RedisStore, Take
from smmpanel.config import API_ACTIONS, RateLimit, Settings, parse_rate_limits

TOO_MANY_REQUESTS = "Too many requests"


class RateLimiter:
    def __init__(self, settings: Settings, store: LimitStore | None = None) -> None:
        self._by_key = parse_rate_limits(settings.rate_limits)
        self._by_address = parse_rate_limits(settings.address_rate_limits)
        self._failures = settings.invalid_key_rate()
        self.enabled = bool(self._by_key or self._by_address or self._failures)
        if store is None:
            store = RedisStore(settings.redis_url) if settings.redis_url and self.enabled else MemoryStore()
        self._store = store

    @staticmethod
    def _counter(limits: dict[str, RateLimit], scope: str, subject: str, action: str) -> Counter | None:
        """The action's own limit, else ``*``'s; each action is counted apart either way."""
        limit = limits.get(action) or limits.get("*")
        return None if limit is None else Counter(f"{scope}:{subject}:{action}", limit.count, limit.period)

    async def check(self, address: str, customer_id: int | None, action: str) -> int | None:
        """Count one API request; None when it may go on, else seconds until it may be retried.

        ``customer_id`` is None when the key failed. ``action`` is any text the client sent:
        names outside the API's own are counted as one, ``?``.
        """
        if not self.enabled:
            return None
        counters: tuple[Counter, ...] = ()
        if self._by_address or self._by_key:  # by default only the failed-key counter is on: no work here
            action = action if action in API_ACTIONS else "?"
            found = [self._counter(self._by_address, "a", address, action)]
            if customer_id is not None:
                found.append(self._counter(self._by_key, "k", str(customer_id), action))
            counters = tuple(c for c in found if c is not None)
        failures = None
        if self._failures is not None:
            failures = Counter(f"f:{address}", self._failures.count, self._failures.period)
        if failures is None and not counters:
            return None
        return await self._store.take(Take(failures, customer_id is None, counters), time.time())

    async def aclose(self) -> None:
        await self._store.aclose()


def too_many_requests(retry_after: int) -> Response:
    """The API's own answer shape, with the status and header that clients and proxies know."""
    return Response(
        orjson.dumps({"error": TOO_MANY_REQUESTS}),
        status_code=429,
        media_type="application/json; charset=utf-8",
        headers={"Retry-After": str(retry_after)},
    )
