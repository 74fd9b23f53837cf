"""Durations as an operator types them: ``6h``, ``90m``, ``1d``, ``45s`` or plain seconds."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"^\s*([0-9]{1,9})\s*([smhd]?)\s*$", re.IGNORECASE)


def parse_duration(text: str) -> int:
    """Whole seconds; ValueError with a message fit for the operator on anything else."""
    found = _DURATION.match(text)
    if found is None or int(found.group(1)) == 0:
        raise ValueError(f"expected a duration such as 6h, 90m, 1d or 3600 (seconds), got {text!r}")
    return int(found.group(1)) * _UNITS[(found.group(2) or "s").lower()]


def format_duration(seconds: int) -> str:
    """The largest whole unit: 21600 → ``6h``, 5400 → ``90m``."""
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"
