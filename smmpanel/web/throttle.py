"""Login attempts, limited so that passwords cannot be guessed in bulk, nor an owner locked out.

Three counts of failed logins in a sliding window:

- per address: an address that failed too often is refused, whatever the username;
- per address and username: one address may not keep guessing one account;
- per username, from everywhere: past a few failures, an address that has failed before must
  wait a little longer before each next try (a slow-down for guessers spread over many
  addresses). An address with no failures is never refused, so the real owner, the operator
  included, logs in with the right password however many guesses others made.

Memory is bounded: each count keeps at most ``MAX_KEYS`` keys (the least recently used are
forgotten first) and each key at most as many times as its limit needs. The login form refuses
over-long usernames before they get here. Kept in memory, per process.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from smmpanel.config import RateLimit

WINDOW_SECONDS = 15 * 60
ADDRESS_FAILURES = 20
PAIR_FAILURES = 5
USER_FAILURES = 5
"""Failures of one username (from anywhere) after which the slow-down starts."""
MAX_SLOWDOWN_SECONDS = 300
MAX_KEYS = 10_000


class FailureWindows:
    """Times of recent failures per key, for at most ``max_keys`` keys and ``keep`` times per key."""

    def __init__(self, window: float, keep: int, max_keys: int = MAX_KEYS) -> None:
        self._window = window
        self._keep = keep
        self._max_keys = max_keys
        self._times: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._times)

    def recent(self, key: str, now: float) -> deque[float]:
        """The key's failures still in the window, oldest first (empty when none)."""
        times = self._times.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._times[key]
        return times

    def add(self, key: str, now: float) -> None:
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = deque(maxlen=self._keep)
            if len(self._times) > self._max_keys:
                self._times.popitem(last=False)
        else:
            self._times.move_to_end(key)
        times.append(now)

    def forget(self, key: str) -> None:
        self._times.pop(key, None)

    def drop_latest(self, key: str) -> None:
        times = self._times.get(key)
        if times:
            times.pop()


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        self._clock = clock
        self._window = WINDOW_SECONDS
        self._by_address = FailureWindows(WINDOW_SECONDS, ADDRESS_FAILURES, max_keys)
        self._by_pair = FailureWindows(WINDOW_SECONDS, PAIR_FAILURES, max_keys)
        self._by_user = FailureWindows(WINDOW_SECONDS, USER_FAILURES + 16, max_keys)

    @staticmethod
    def _name(username: str) -> str:
        return username.strip().lower()  # usernames are unique whatever their case

    def keys_held(self) -> int:
        return len(self._by_address) + len(self._by_pair) + len(self._by_user)

    def wait_seconds(self, address: str, username: str) -> float:
        """How long until this address may try this username; 0 when it may now."""
        now = self._clock()
        name = self._name(username)
        waits = []
        by_address = self._by_address.recent(address, now)
        if len(by_address) >= ADDRESS_FAILURES:
            waits.append(by_address[0] + self._window - now)
        by_pair = self._by_pair.recent(f"{address}\n{name}", now)
        if len(by_pair) >= PAIR_FAILURES:
            waits.append(by_pair[0] + self._window - now)
        by_user = self._by_user.recent(name, now)
        if len(by_user) >= USER_FAILURES and by_address:
            slowdown = min(2.0 ** (len(by_user) - USER_FAILURES), MAX_SLOWDOWN_SECONDS)
            waits.append(by_address[-1] + slowdown - now)
        return max([0.0, *waits])

    def failed(self, address: str, username: str) -> None:
        """Count an attempt as failed; the login form counts each one before checking the password
        (so that guesses sent in parallel count too) and forgives it when it succeeds."""
        now = self._clock()
        name = self._name(username)
        self._by_address.add(address, now)
        self._by_pair.add(f"{address}\n{name}", now)
        self._by_user.add(name, now)

    def succeeded(self, address: str, username: str) -> None:
        name = self._name(username)
        self._by_address.drop_latest(address)
        self._by_pair.forget(f"{address}\n{name}")
        self._by_user.forget(name)


class AttemptLimit:
    """At most ``limit.count`` attempts per address in any ``limit.period`` seconds (sign-ups);
    None means no limit."""

    def __init__(self, limit: RateLimit | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._attempts = FailureWindows(limit.period, limit.count) if limit else None

    def wait_seconds(self, address: str) -> float:
        if self._limit is None or self._attempts is None:
            return 0.0
        now = self._clock()
        recent = self._attempts.recent(address, now)
        return recent[0] + self._limit.period - now if len(recent) >= self._limit.count else 0.0

    def attempted(self, address: str) -> None:
        if self._attempts is not None:
            self._attempts.add(address, self._clock())
