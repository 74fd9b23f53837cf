"""Small bar charts as plain SVG shapes, computed here and drawn by a template macro.

No JavaScript and no library: the page arrives with its charts already drawn,
and every text in them goes through the template's escaping like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from smmpanel.money import format_amount
from smmpanel.usecases.reports import DayFigures


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str
    """A CSS class: ``revenue``, ``cost`` or ``count``."""
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    title: str
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    baseline: float = 0.0


def _height(value: int, top: int, span: float) -> float:
    return 0.0 if top <= 0 else max(0, value) / top * span


def money_by_day(days: Sequence[DayFigures], currency: str, *, width: int = 760, height: int = 220) -> Chart:
    """Revenue and cost side by side for each day, labelled every fifth day."""
    left, right, top_pad, bottom = 64, 8, 12, 26
    plot_width, plot_height = width - left - right, height - top_pad - bottom
    baseline = top_pad + plot_height
    peak = max([0, *(d.revenue for d in days), *(d.cost for d in days)])
    chart = Chart(width, height, f"Revenue and cost per day ({currency})", baseline=baseline)
    slot = plot_width / max(1, len(days))
    bar = max(1.0, slot * 0.38)
    for index, day in enumerate(days):
        x = left + index * slot + slot * 0.1
        for offset, kind, value in ((0.0, "revenue", day.revenue), (bar, "cost", day.cost)):
            size = _height(value, peak, plot_height)
            title = f"{day.day.isoformat()} {kind}: {format_amount(value)} {currency}"
            chart.bars.append(
                Bar(round(x + offset, 2), round(baseline - size, 2), round(bar, 2), round(size, 2), kind, title)
            )
        if index % 5 == 0 or index == len(days) - 1:
            chart.labels.append(Label(round(x + bar, 2), height - 8, day.day.strftime("%m-%d")))
    chart.labels.append(Label(left - 6, top_pad + 8, format_amount(peak), "end"))
    chart.labels.append(Label(left - 6, baseline, "0", "end"))
    return chart


def counts(
    values: dict[str, int], title: str, *, width: int = 360, text: Callable[[int], str] = str, left: int = 92
) -> Chart:
    """One horizontal bar per key (e.g. orders per status), its value (as ``text`` writes it) at its end."""
    longest = max((len(text(value)) for value in values.values()), default=0)
    row, right = 24, max(48, 16 + 7 * longest)  # room for the value written at the bar's end
    height = row * max(1, len(values)) + 8
    peak = max([0, *values.values()])
    chart = Chart(width, height, title)
    for index, (name, value) in enumerate(values.items()):
        y = 4 + index * row
        size = _height(value, peak, width - left - right)
        chart.bars.append(Bar(left, y + 4, round(size, 2), row - 8, "count", f"{name}: {text(value)}"))
        chart.labels.append(Label(left - 6, y + row / 2 + 4, name, "end"))
        chart.labels.append(Label(round(left + size + 6, 2), y + row / 2 + 4, text(value), "start"))
    return chart
