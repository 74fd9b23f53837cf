"""The simulator's order and refill ids, kept in a small file so that a restart never gives one twice.

A panel that forwarded order 7 to the simulator before a restart must never be told
"order 7" again for another order: it would land on the attention list as an id given
twice. Without a file (tests, benchmarks) ids start at 1 in every run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


class SimulatorIds:
    def __init__(self, state_file: str | None) -> None:
        self._path = Path(state_file) if state_file else None
        self._next = {"order": 1, "refill": 1}
        if self._path is not None and self._path.exists():
            saved = json.loads(self._path.read_text())
            for kind in self._next:
                self._next[kind] = max(1, int(saved.get(kind, 1)))

    def take(self, kind: str, count: int = 1) -> int:
        """The first of ``count`` fresh ids of ``kind`` (``order`` or ``refill``), written down before use."""
        first = self._next[kind]
        self._next[kind] = first + count
        if self._path is not None:
            partial = self._path.with_name(self._path.name + ".tmp")
            partial.write_text(json.dumps(self._next))
            os.replace(partial, self._path)  # whole or not at all, even if the simulator dies mid-write
        return first
