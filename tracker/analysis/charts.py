"""Server-side SVG geometry for the charts of the overview and the report pages.

Each chart is drawn by a template from the numbers computed here, so the pages need no
script and no chart library, and work offline. The same numbers feed the data table
shown with each chart, its text equivalent. The scales, the axes and the fitting of
labels are shared here by every chart.
"""

import datetime
import math
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tracker.models import in_language

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


# Shared scales --------------------------------------------------------------------------


def _nice_scale(top_value):
    """A tick step of 1, 2 or 5 × 10ⁿ giving at most MAX_TICKS intervals, and the axis top."""
    if top_value <= 0:
        return 1, 1
    raw = top_value / (MAX_TICKS - 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return step, step * math.ceil(top_value / step)


def _linear(top_value, start, end):
    """The coordinate of a value on an axis from 0 (at ``start``) to ``top_value`` (at ``end``)."""

    def coordinate(value):
        return round(start + value / top_value * (end - start), 1)

    return coordinate


def _value_ticks(top_value):
    """The axis top and its ticks (value, label) in round steps from 0."""
    step, axis_top = _nice_scale(top_value)
    return axis_top, [(v, str(v)) for v in range(0, axis_top + 1, step)]


def _date_ticks(first, last):
    """Month starts between two dates, spaced so that at most MAX_TICKS show."""
    if first == last:
        return [(first, first.isoformat())]
    span = _months_between(first, last)
    step = next((s for s in (1, 2, 3, 6, 12, 24, 60) if span / s <= MAX_TICKS), 120)
    ticks = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        day = datetime.date(year, month, 1)
        if first <= day and (year * 12 + month - 1) % step == 0:
            ticks.append((day, str(year) if step >= 12 else f"{year}-{month:02d}"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ticks or [(first, first.isoformat()), (last, last.isoformat())]


def _months_between(first, last):
    return (last.year - first.year) * 12 + last.month - first.month


def text_width(text):
    """The width of ``text`` in ems: a Chinese character fills one, a Latin one about half."""
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text)


def fit(text, ems):
    """``text`` cut with an ellipsis to at most ``ems`` wide; the full text goes in a title."""
    if text_width(text) <= ems:
        return text
    kept = ""
    for character in text:
        if text_width(kept + character) > ems - 1:
            break
        kept += character
    return kept.rstrip() + "…"


# A description names this many of a chart's largest values.
LEADERS = 3


def key_figures(pairs):
    """Names with their numbers, for a chart's description: Beijing (120), Shanghai (80)."""
    return gettext(", ").join(
        gettext("%(name)s (%(value)s)") % {"name": name, "value": value} for name, value in pairs
    )


@dataclass(kw_only=True)
class Frame:
    """A chart with axes: the SVG's size, the plot area inside it and the axes' ticks."""

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


# The overview's cumulative chart --------------------------------------------------------


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


@dataclass(kw_only=True)
class Chart(Frame):
    series: list


def cumulative_chart(timeline):
    """The chart of cumulative entered against announced counts, or None without batches."""
    if not timeline:
        return None
    first, last = timeline[0].batch.announced_on, timeline[-1].batch.announced_on
    top_value = max(
        (getattr(point, attr) or 0 for point in timeline for attr, _label, _css in SERIES),
        default=0,
    )
    y_max, y_values = _value_ticks(top_value)
    y_of = _linear(y_max, HEIGHT - BOTTOM, TOP)

    def x_of(day):
        if first == last:
            return (LEFT + WIDTH - RIGHT) / 2
        share = (day - first).days / (last - first).days
        return round(LEFT + share * (WIDTH - RIGHT - LEFT), 1)

    series = []
    for attr, label, css in SERIES:
        line = Series(label, css)
        for point in timeline:
            value = getattr(point, attr)
            if value is not None:
                day = point.batch.announced_on
                line.points.append(Point(x_of(day), y_of(value), value, day))
        # A series with nothing in it (no registrations at all, say) only adds noise.
        if any(p.value for p in line.points):
            series.append(line)

    x_ticks = [(x_of(day), label) for day, label in _date_ticks(first, last)]
    y_ticks = [(y_of(v), label) for v, label in y_values]
    return Chart(series=series, x_ticks=x_ticks, y_ticks=y_ticks)


# Columns per month, stacked by filing type ----------------------------------------------

# (attribute of breakdowns.MonthCount, legend label, CSS modifier), bottom to top.
MONTH_SERIES = [
    ("filings", _("Filings"), "filing"),
    ("registrations", _("Registrations"), "registration"),
]
# The share of each month's band left empty between two columns.
COLUMN_GAP = 0.25


@dataclass(frozen=True)
class Segment:
    y: float
    height: float
    value: int
    label: str
    css: str


@dataclass(frozen=True)
class Column:
    month: datetime.date
    x: float
    width: float
    values: tuple  # each of MONTH_SERIES in turn
    segments: list  # the values above zero, as drawn

    @property
    def total(self):
        return sum(self.values)

    @property
    def label(self):
        return f"{self.month.year}-{self.month.month:02d}"


@dataclass(kw_only=True)
class ColumnChart(Frame):
    columns: list
    series: list  # (label, CSS modifier) of the stacked parts present, for the legend
    totals: dict  # {attribute of MONTH_SERIES: sum over the months}

    @property
    def total(self):
        return sum(self.totals.values())

    @property
    def busiest(self):
        """The month with the most, the earliest of equals."""
        return max(self.columns, key=lambda column: column.total)


def monthly_chart(months):
    """Columns of approvals per month (``breakdowns.MonthCount``), each stacked by filing
    type; None when no month has any."""
    if not any(month.total for month in months):
        return None
    y_max, y_values = _value_ticks(max(month.total for month in months))
    y_of = _linear(y_max, HEIGHT - BOTTOM, TOP)
    band = (WIDTH - RIGHT - LEFT) / len(months)
    columns = []
    for i, month in enumerate(months):
        values = tuple(getattr(month, attr) for attr, _label, _css in MONTH_SERIES)
        segments, base = [], 0
        for value, (_attr, label, css) in zip(values, MONTH_SERIES, strict=True):
            if value:
                y = y_of(base + value)
                segments.append(Segment(y, round(y_of(base) - y, 1), value, label, css))
            base += value
        x = round(LEFT + (i + COLUMN_GAP / 2) * band, 1)
        columns.append(Column(month.month, x, round(band * (1 - COLUMN_GAP), 1), values, segments))
    first = months[0].month
    x_ticks = [
        (round(LEFT + (_months_between(first, day) + 0.5) * band, 1), label)
        for day, label in _date_ticks(first, months[-1].month)
    ]
    if len(months) == 1:
        x_ticks = [(x_ticks[0][0], columns[0].label)]
    totals = {attr: sum(getattr(month, attr) for month in months) for attr, *_ in MONTH_SERIES}
    return ColumnChart(
        columns=columns,
        series=[(label, css) for attr, label, css in MONTH_SERIES if totals[attr]],
        totals=totals,
        x_ticks=x_ticks,
        y_ticks=[(y_of(v), label) for v, label in y_values],
    )


# Horizontal bars, each under its label --------------------------------------------------

BAR_WIDTH = 600
BAR_LABEL = 24  # the line of a bar's label, above the bar
BAR_THICKNESS = 12
BAR_GAP = 10
# Labels are drawn up to this size on a phone (see charts.css): they must fit then.
LABEL_SIZE = 20


@dataclass(frozen=True)
class BarRow:
    """One bar to draw: its name, its value, the numbers written beside the name, a link,
    and optionally a second value marked on the bar (a percentile, say)."""

    name: str
    value: float
    figures: str
    url: str = ""
    marker: float | None = None
    css: str = ""


@dataclass(frozen=True)
class Bar:
    row: BarRow
    label: str  # the name, cut to fit beside the figures
    label_y: float
    y: float
    length: float
    marker_x: float | None

    @property
    def middle(self):
        return self.y + BAR_THICKNESS / 2

    @property
    def marker_top(self):
        return self.y - 4

    @property
    def marker_bottom(self):
        return self.y + BAR_THICKNESS + 4


@dataclass
class BarChart:
    bars: list
    height: int
    width: int = BAR_WIDTH
    thickness: int = BAR_THICKNESS

    @property
    def has_markers(self):
        return any(bar.marker_x is not None for bar in self.bars)

    @property
    def leaders(self):
        """The first three bars of one named thing each (not the bar of the others) with
        their values, for the chart's description."""
        named = [(bar.row.name, bar.row.value) for bar in self.bars if not bar.row.css]
        return key_figures(named[:LEADERS])


def bar_chart(rows):
    """Horizontal bars for ``rows`` (``BarRow``), in their order, each under a line with
    its name and figures; None without rows."""
    if not rows:
        return None
    top_value = max(max(row.value, row.marker or 0) for row in rows) or 1
    x_of = _linear(top_value, 0, BAR_WIDTH - 2)
    bars, y = [], 0
    for row in rows:
        room = BAR_WIDTH / LABEL_SIZE - text_width(row.figures) - 1
        bars.append(
            Bar(
                row=row,
                label=fit(row.name, room),
                label_y=y + BAR_LABEL - 6,
                y=y + BAR_LABEL,
                length=max(x_of(row.value), 1),
                marker_x=None if row.marker is None else x_of(row.marker),
            )
        )
        y += BAR_LABEL + BAR_THICKNESS + BAR_GAP
    return BarChart(bars=bars, height=y - BAR_GAP + 2)


# A tile-grid map of China's provinces ---------------------------------------------------

TILE = 72
TILE_GAP = 6
# Each province-level region as a square at (column, row), west to east and north to
# south, keeping its neighbours around it as far as a grid allows. The central state-owned
# enterprises are no place: their tile stands apart in the empty south-east corner.
TILE_GRID = {
    "HL": (6, 0),
    "NM": (3, 1),
    "BJ": (4, 1),
    "LN": (5, 1),
    "JL": (6, 1),
    "XJ": (0, 2),
    "GS": (1, 2),
    "NX": (2, 2),
    "SX": (3, 2),
    "HE": (4, 2),
    "TJ": (5, 2),
    "QH": (1, 3),
    "SN": (2, 3),
    "HA": (3, 3),
    "SD": (4, 3),
    "XZ": (0, 4),
    "SC": (1, 4),
    "CQ": (2, 4),
    "HB": (3, 4),
    "AH": (4, 4),
    "JS": (5, 4),
    "SH": (6, 4),
    "YN": (1, 5),
    "GZ": (2, 5),
    "HN": (3, 5),
    "JX": (4, 5),
    "ZJ": (5, 5),
    "GX": (2, 6),
    "GD": (3, 6),
    "FJ": (4, 6),
    "HI": (2, 7),
    "SASAC": (6, 7),
}
APART = {"SASAC"}
GRID_COLUMNS = 7
GRID_ROWS = 8
# Shades 1 to SHADES darken with the count; shade 0 is a tile without any.
SHADES = 4


@dataclass(frozen=True)
class Tile:
    code: str
    name: str
    label: str  # short enough for the tile: the Chinese name, or the code in English
    count: int
    x: float
    y: float
    shade: int
    apart: bool

    @property
    def centre_x(self):
        return self.x + TILE / 2

    @property
    def label_y(self):
        return self.y + TILE * 0.42

    @property
    def count_y(self):
        return self.y + TILE * 0.78


@dataclass
class TileMap:
    tiles: list
    legend: list  # (shade, lowest count, highest count)
    height: int
    width: int = GRID_COLUMNS * (TILE + TILE_GAP) - TILE_GAP
    size: int = TILE

    @property
    def total(self):
        return sum(tile.count for tile in self.tiles)

    @property
    def with_any(self):
        return sum(1 for tile in self.tiles if tile.count)

    @property
    def ranked(self):
        """The tiles, largest count first, in the jurisdictions' order among equals."""
        return sorted(self.tiles, key=lambda tile: -tile.count)

    @property
    def leaders(self):
        """The three largest counts with their jurisdictions, for the map's description."""
        return key_figures((tile.name, tile.count) for tile in self.ranked[:LEADERS] if tile.count)


def shade_bounds(counts):
    """The highest count of each shade: the counts above zero split into up to SHADES
    groups of about equal size, so that a few large regions do not leave the rest in one
    shade."""
    ordered = sorted(c for c in counts if c > 0)
    bounds = []
    for i in range(1, SHADES + 1):
        bound = ordered[math.ceil(i * len(ordered) / SHADES) - 1] if ordered else 0
        if bound and (not bounds or bound > bounds[-1]):
            bounds.append(bound)
    return bounds


def tile_map(counts, jurisdictions):
    """A tile for each jurisdiction, shaded by its count in ``counts`` ({code: n}); None
    when every count is zero. A jurisdiction the grid does not place goes in a row below."""
    if not any(counts.get(j.code) for j in jurisdictions):
        return None
    bounds = shade_bounds(counts.get(j.code, 0) for j in jurisdictions)
    # The darkest shade always marks the largest counts, however few groups there are.
    first_shade = SHADES - len(bounds) + 1

    def shade_of(count):
        if not count:
            return 0
        return first_shade + next(i for i, bound in enumerate(bounds) if count <= bound)

    step = TILE + TILE_GAP
    extra = 0
    tiles = []
    for jurisdiction in jurisdictions:
        if jurisdiction.code in TILE_GRID:
            column, row = TILE_GRID[jurisdiction.code]
        else:
            column, row = extra % GRID_COLUMNS, GRID_ROWS + extra // GRID_COLUMNS
            extra += 1
        count = counts.get(jurisdiction.code, 0)
        tiles.append(
            Tile(
                code=jurisdiction.code,
                name=jurisdiction.name,
                label=in_language(jurisdiction.name_zh, jurisdiction.code),
                count=count,
                x=column * step,
                y=row * step,
                shade=shade_of(count),
                apart=jurisdiction.code in APART or jurisdiction.code not in TILE_GRID,
            )
        )
    rows = GRID_ROWS + math.ceil(extra / GRID_COLUMNS)
    legend = [(0, 0, 0)] if any(tile.count == 0 for tile in tiles) else []
    low = 1
    for i, bound in enumerate(bounds):
        legend.append((first_shade + i, low, bound))
        low = bound + 1
    return TileMap(tiles=tiles, legend=legend, height=rows * step - TILE_GAP)
