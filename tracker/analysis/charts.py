"""Server-side SVG geometry for the overview chart.

The chart is drawn by a template from the numbers computed here, so the page needs no
script and no chart library, and works offline. The same numbers feed the data table
shown with it, the chart's text equivalent.
"""

import datetime
import math
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

WIDTH = 720
HEIGHT = 320
LEFT, RIGHT, TOP, BOTTOM = 64, 40, 16, 40
MAX_TICKS = 6

# (attribute of stats.BatchPoint, legend label, CSS modifier)
SERIES = [
    ("entered_filings", _("Filings entered here"), "entered"),
    ("announced_filings", _("Filings announced"), "announced"),
    ("entered_registrations", _("Registrations entered here"), "entered-reg"),
    ("announced_registrations", _("Registrations announced"), "announced-reg"),
]


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    date: datetime.date


@dataclass
class Series:
    label: str
    css: str
    points: list = field(default_factory=list)

    @property
    def polyline(self):
        return " ".join(f"{p.x},{p.y}" for p in self.points)


@dataclass
class Chart:
    series: list
    x_ticks: list  # (x, label)
    y_ticks: list  # (y, label)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def y_label_x(self):
        return self.left - 8

    @property
    def x_label_y(self):
        return self.bottom + 26


def cumulative_chart(timeline):
    """The chart of cumulative entered against announced counts, or None without batches."""
    if not timeline:
        return None
    first, last = timeline[0].batch.announced_on, timeline[-1].batch.announced_on
    top_value = max(
        (getattr(point, attr) or 0 for point in timeline for attr, _label, _css in SERIES),
        default=0,
    )
    y_step, y_max = _nice_scale(top_value)

    def x_of(day):
        if first == last:
            return (LEFT + WIDTH - RIGHT) / 2
        share = (day - first).days / (last - first).days
        return LEFT + share * (WIDTH - RIGHT - LEFT)

    def y_of(value):
        return HEIGHT - BOTTOM - value / y_max * (HEIGHT - BOTTOM - TOP)

    series = []
    for attr, label, css in SERIES:
        line = Series(label, css)
        for point in timeline:
            value = getattr(point, attr)
            if value is not None:
                day = point.batch.announced_on
                line.points.append(Point(round(x_of(day), 1), round(y_of(value), 1), value, day))
        # A series with nothing in it (no registrations at all, say) only adds noise.
        if any(p.value for p in line.points):
            series.append(line)

    x_ticks = [(round(x_of(day), 1), label) for day, label in _date_ticks(first, last)]
    y_ticks = [(round(y_of(v), 1), str(v)) for v in range(0, y_max + 1, y_step)]
    return Chart(series=series, x_ticks=x_ticks, y_ticks=y_ticks)


def _nice_scale(top_value):
    """A tick step of 1, 2 or 5 × 10ⁿ giving at most MAX_TICKS intervals, and the axis top."""
    if top_value <= 0:
        return 1, 1
    raw = top_value / (MAX_TICKS - 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return step, step * math.ceil(top_value / step)


def _date_ticks(first, last):
    """Month starts between two dates, spaced so that at most MAX_TICKS show."""
    if first == last:
        return [(first, first.isoformat())]
    span = (last.year - first.year) * 12 + last.month - first.month
    step = next((s for s in (1, 2, 3, 6, 12, 24, 60) if span / s <= MAX_TICKS), 120)
    ticks = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        day = datetime.date(year, month, 1)
        if first <= day and (year * 12 + month - 1) % step == 0:
            ticks.append((day, str(year) if step >= 12 else f"{year}-{month:02d}"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ticks or [(first, first.isoformat()), (last, last.isoformat())]
