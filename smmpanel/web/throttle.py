"""Login attempts, limited per address and per username, so passwords cannot be guessed in bulk."""

from __future__ import annotations

import time
from collections import defaultdict, deque

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


class LoginThrottle:
    """Failures in a sliding window; kept in memory, per process."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS) -> None:
        self._max = max_failures
        self._window = window
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures

    def wait_seconds(self, address: str, username: str) -> float:
        """How long until another attempt is allowed; 0 when it is allowed now."""
        now = time.monotonic()
        waits = [
            failures[0] + self._window - now
            for failures in (self._recent(f"a:{address}", now), self._recent(f"u:{username.lower()}", now))
            if len(failures) >= self._max
        ]
        return max(waits, default=0.0)

    def failed(self, address: str, username: str) -> None:
        now = time.monotonic()
        self._failures[f"a:{address}"].append(now)
        self._failures[f"u:{username.lower()}"].append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(f"u:{username.lower()}", None)
