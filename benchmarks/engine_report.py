"""The engine benchmark's results and its report: one row per run, and the machine it ran on."""

from __future__ import annotations

import os
import platform
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Result:
    backend: str
    scenario: str
    workers: int
    orders: int
    version: str = "this"
    """"this" checkout's workers, or "before": those of ``--baseline``."""
    done: int = 0
    seconds: float = 0.0
    startup: float | None = None
    """Seconds until the first order was handled: process start and the first claim."""
    calls: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    """Orders that ended on the attention list or failed."""
    ledger_ok: bool = True
    timed_out: bool = False
    failed_passes: int = 0
    """Engine passes that failed (logged by the workers); the orders they had claimed wait a sync interval."""
    failed_checks: int = 0
    """Status calls that failed (logged by the workers): their orders wait a sync interval (here a day)."""
    waits: Counter[str] = field(default_factory=Counter)
    """PostgreSQL: what the worker connections' server processes were doing, one count per sample."""
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds spent during the run by the workers, the simulator, and (PostgreSQL) the
    server processes serving the workers' connections."""
    warm_cpu: dict[str, float] = field(default_factory=dict)
    """The same CPU seconds as the first order was handled: what start-up cost (imports, connecting)."""
    warm_done: int = 0
    """Orders handled by then."""
    machine_busy: float = 0.0
    """Share of all the machine's cores busy during the run, whoever used them."""
    load: float = 0.0
    """The machine's load average (1 min) as the run began: other work slows a run down."""
    load_end: float = 0.0
    """The same as the last order was handled."""
    level: int = 0
    """Finished orders in the table beside the work (``Config.levels``); 0: none."""

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_order(self) -> float:
        """Milliseconds of CPU (workers and database) per order: unlike seconds, hardly moved by other load."""
        return 1000 * (self.cpu.get("workers", 0) + self.cpu.get("postgres", 0)) / self.done if self.done else 0.0

    def steady_ms(self, name: str) -> float | None:
        """Milliseconds of ``name``'s CPU per order once running (start-up left out), or None."""
        orders = self.done - self.warm_done
        if name not in self.cpu or name not in self.warm_cpu or orders <= 0:
            return None
        return 1000 * (self.cpu[name] - self.warm_cpu[name]) / orders

    @property
    def steady_rate(self) -> float:
        """Orders per second from the first order handled to the last: process start-up left out."""
        if self.startup is None or self.seconds <= self.startup:
            return 0.0
        return (self.done - self.warm_done) / (self.seconds - self.startup)

    @property
    def requests(self) -> int:
        return sum(self.calls.values())

    @property
    def complete(self) -> bool:
        return self.done == self.orders and not self.timed_out


# --- the report ------------------------------------------------------------------------

PARTS = ("workers", "postgres", "simulator")
"""Whose CPU the report shows, in this order."""

COLUMNS = (
    "version",
    "backend",
    "scenario",
    "workers",
    "orders",
    "done",
    "seconds",
    "orders/s",
    "start s",
    "cpu s worker/db/sim",
    "cpu ms/order",
    "steady orders/s",
    "steady ms/order worker/db/sim",
    "busy",
    "load",
    "sim requests",
)


def row(result: Result) -> list[str]:
    calls = ", ".join(f"{name} {count}" for name, count in sorted(result.calls.items()))
    note = _note(result)
    return [
        result.version,
        result.backend,
        result.scenario,
        str(result.workers),
        str(result.orders),
        str(result.done),
        f"{result.seconds:.1f}{note}",
        f"{result.rate:,.0f}",
        "-" if result.startup is None else f"{result.startup:.1f}",
        "/".join(f"{result.cpu[name]:.1f}" if name in result.cpu else "-" for name in PARTS),
        f"{result.cpu_per_order:.2f}",
        f"{result.steady_rate:,.0f}",
        "/".join("-" if ms is None else f"{ms:.2f}" for ms in map(result.steady_ms, PARTS)),
        f"{result.machine_busy:.0%}",
        f"{result.load:.1f}–{result.load_end:.1f}",
        f"{result.requests} ({calls})",
    ]


def waits(result: Result) -> str:
    """The worker connections' samples, most common first: a share of lock waits shows contention."""
    total = sum(result.waits.values())
    return ", ".join(f"{name} {count / total:.0%}" for name, count in result.waits.most_common(8))


def table(results: Sequence[Result]) -> str:
    return aligned(COLUMNS, [row(result) for result in results])


def aligned(columns: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    rows = [list(columns), *cells]
    widths = [max(len(line[i]) for line in rows) for i in range(len(columns))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


LEVEL_COLUMNS = (
    "backend",
    "scenario",
    "finished orders",
    "queue",
    "done",
    "ms/order",
    "cpu ms/order worker/db",
    "÷ first level: ms, worker, db",
    "load",
)


def level_rows(results: Sequence[Result]) -> list[list[str]]:
    """Per run: steady milliseconds and CPU per order of the queue, and each over the first level's
    (the same scenario's first run). A run with nothing steady (too few orders) shows dashes."""
    first: dict[str, Result] = {}
    rows = []
    for result in results:
        base = first.setdefault(result.scenario, result)
        figures = (_ms_per_order(result), result.steady_ms("workers"), result.steady_ms("postgres"))
        bases = (_ms_per_order(base), base.steady_ms("workers"), base.steady_ms("postgres"))
        ratios = ["-" if not b or f is None else f"{f / b:.2f}" for f, b in zip(figures, bases, strict=True)]
        rows.append(
            [
                result.backend,
                result.scenario,
                f"{result.level:,}",
                str(result.orders),
                f"{result.done}{_note(result)}",
                "-" if figures[0] is None else f"{figures[0]:.3f}",
                "/".join("-" if ms is None else f"{ms:.3f}" for ms in figures[1:]),
                ", ".join(ratios),
                f"{result.load:.1f}–{result.load_end:.1f}",
            ]
        )
    return rows


def _note(result: Result) -> str:
    """What went wrong in a run, if anything: a few words to follow its figures."""
    note = " TIMED OUT" if result.timed_out else ""
    note += f" {result.errors} in attention" if result.errors else ""
    note += " LEDGER MISMATCH" if not result.ledger_ok else ""
    note += f" {result.failed_passes} failed passes" if result.failed_passes else ""
    return note + (f" {result.failed_checks} failed status calls" if result.failed_checks else "")


def _ms_per_order(result: Result) -> float | None:
    """Milliseconds per order once running (start-up left out)."""
    return 1000 / result.steady_rate if result.steady_rate else None


def machine() -> str:
    """The machine and the moment, for the record (RESULTS.md asks for both)."""
    model = next(
        (line.split(":", 1)[1].strip() for line in _read_lines("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load = "/".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{stamp}; {os.cpu_count()} cores, {model}; load {load}; Python {platform.python_version()}"


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []
