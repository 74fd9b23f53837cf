"""Where rate-limit counters live: in this process, or in Redis for every API process at once.

Both stores count in fixed windows: a counter is named after its window
(``…:<period>:<window number>``), so it needs no reset and simply expires. One
``take`` is one decision, and on Redis one round trip (a Lua script), whatever
number of counters it touches.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("smmpanel.api.limits")

PREFIX = "smmpanel:rl:"


@dataclass(frozen=True, slots=True)
class Counter:
    """One counter to bump: refused when it passes ``limit`` within its window of ``period`` seconds."""

    name: str
    limit: int
    period: int


@dataclass(frozen=True, slots=True)
class Take:
    """Everything one request counts against.

    ``failures`` is the address's counter of failed API keys: bumped when ``failed``,
    only read otherwise; past its limit every request from the address is refused.
    """

    failures: Counter | None
    failed: bool
    counters: tuple[Counter, ...]


def window_name(counter: Counter, now: float) -> str:
    return f"{PREFIX}{counter.name}:{counter.period}:{int(now // counter.period)}"


def seconds_left(period: int, now: float) -> int:
    """Whole seconds until the current window of ``period`` ends (at least 1)."""
    return max(1, int(period - now % period + 0.999))


class LimitStore(Protocol):
    async def take(self, take: Take, now: float) -> int | None:
        """Count the request; None when it may go on, else the seconds to wait (``Retry-After``)."""
        ...

    async def aclose(self) -> None: ...


class MemoryStore:
    """Counters in this process only: the embedded default, and any deployment without Redis."""

    SWEEP_EVERY = 10.0

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}  # window name → (count, window end)
        self._next_sweep = 0.0

    def _sweep(self, now: float) -> None:
        if now >= self._next_sweep:
            self._counts = {name: entry for name, entry in self._counts.items() if entry[1] > now}
            self._next_sweep = now + self.SWEEP_EVERY

    def _bump(self, counter: Counter, now: float, by: int = 1) -> int:
        name = window_name(counter, now)
        count, end = self._counts.get(name, (0, (now // counter.period + 1) * counter.period))
        if by == 0:
            return count
        self._counts[name] = (count + by, end)
        return count + by

    async def take(self, take: Take, now: float) -> int | None:
        self._sweep(now)
        if take.failures is not None:
            failures = self._bump(take.failures, now, 1 if take.failed else 0)
            if failures > take.failures.limit:
                return seconds_left(take.failures.period, now)
        over = [c.period for c in take.counters if self._bump(c, now) > c.limit]
        return max(seconds_left(period, now) for period in over) if over else None

    async def aclose(self) -> None:
        self._counts.clear()


# KEYS[1]: the failed-key counter ("" when off); KEYS[2..]: the counters.
# ARGV[1]: 1 when the key failed; then limit and expiry for each key, in the same order.
# Answers the 1-based positions of the counters that refused (none: go on).
_SCRIPT = """
local function bump(key, by, ttl)
  local n
  if by == 0 then
    n = tonumber(redis.call('GET', key) or '0')
  else
    n = redis.call('INCR', key)
    if n == 1 then redis.call('EXPIRE', key, ttl) end
  end
  return n
end
if KEYS[1] ~= '' then
  local failures = bump(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[3]))
  if failures > tonumber(ARGV[2]) then return {1} end
end
local refused = {}
for i = 2, #KEYS do
  local n = bump(KEYS[i], 1, tonumber(ARGV[2 * i + 1]))
  if n > tonumber(ARGV[2 * i]) then refused[#refused + 1] = i end
end
return refused
"""


class RedisStore:
    """Counters in Redis, shared by every API process on every machine that names the same server.

    When Redis cannot be reached a request is let through (fail open) and a warning is
    logged, at most once a minute: rate limits must not take the API down with them.
    """

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._redis.register_script(_SCRIPT)
        self._warned_at = -3600.0

    async def take(self, take: Take, now: float) -> int | None:
        from redis.exceptions import RedisError

        counters = [take.failures, *take.counters]
        keys = [window_name(c, now) if c is not None else "" for c in counters]
        argv: list[int] = [1 if take.failed else 0]
        for counter in counters:
            argv += [counter.limit, counter.period + 1] if counter else [0, 1]
        try:
            refused = [int(position) for position in await self._script(keys=keys, args=argv)]
        except (RedisError, OSError) as error:
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("rate limits not applied: Redis unavailable (%s)", type(error).__name__)
            return None
        periods = [counter.period for position in refused if (counter := counters[position - 1]) is not None]
        return max(seconds_left(period, now) for period in periods) if periods else None

    async def aclose(self) -> None:
        await self._redis.aclose()
