"""Charts as SVG drawn on the server, from the same shown table as the table beside them.

No script and no style attribute (the content-security policy allows neither):
geometry is given in attributes, colours and type by classes of the stylesheet.
A hidden count gets no bar, only its mark ("<5" or "x"), so that its length
cannot give it away. The table carries the numbers for screen readers; the
chart is hidden from them.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .tables import Cell, ShownTable

WIDTH = 640
BAR_ROW = 40  # a label line, then the bar
BAR_HEIGHT = 14
VALUE_ROOM = 48  # right of the longest bar, for its number
COLUMN_AREA = 180
COLUMN_GAP = 6
MAX_SERIES = 4
# Past two years of months the columns are too thin to read: the table alone is shown.
MAX_GROUPS = 24


def chart_for(table: ShownTable) -> SafeString:
    if table.chart == "bars":
        return bar_chart(table)
    if table.chart == "columns":
        return column_chart(table)
    return mark_safe("")


def _bar_values(table: ShownTable) -> list[tuple[str, Cell]]:
    """Each row with the one number it is drawn by: its only count, or its total."""
    if len(table.columns) == 1:
        return [(row.label, row.cells[0]) for row in table.rows]
    return [(row.label, row.total) for row in table.rows if row.total is not None]


def _scale(cells: list[Cell]) -> float:
    return max([cell.number for cell in cells if cell.number] or [1])


def _svg(height: int, body: SafeString, key: str) -> SafeString:
    return format_html(
        '<svg class="chart chart--{}" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" aria-hidden="true" focusable="false">{}</svg>',
        key,
        WIDTH,
        height,
        body,
    )


def bar_chart(table: ShownTable) -> SafeString:
    """Horizontal bars, one a row, with the row's label above its bar."""
    values = _bar_values(table)
    if not values:
        return mark_safe("")
    largest = _scale([cell for _label, cell in values])
    room = WIDTH - VALUE_ROOM
    parts = []
    for index, (label, cell) in enumerate(values):
        top = index * BAR_ROW
        parts.append(
            format_html('<text class="chart__label" x="0" y="{}">{}</text>', top + 12, label)
        )
        bar_top = top + 18
        length = round(room * (cell.number or 0) / largest, 1)
        if cell.number:
            parts.append(
                format_html(
                    '<rect class="chart__bar chart__bar--1" x="0" y="{}" width="{}" height="{}">'
                    "</rect>",
                    bar_top,
                    length,
                    BAR_HEIGHT,
                )
            )
        parts.append(_value_text(cell, x=length + 4, y=bar_top + BAR_HEIGHT - 2))
    return _svg(len(values) * BAR_ROW, mark_safe("".join(parts)), table.key)  # noqa: S308 - escaped parts


def column_chart(table: ShownTable) -> SafeString:
    """Vertical columns, a group a row (a month), a column a series (new, closed)."""
    series = min(len(table.columns), MAX_SERIES)
    cells = [cell for row in table.rows for cell in row.cells[:series]]
    if not table.rows or len(table.rows) > MAX_GROUPS:
        return mark_safe("")
    largest = _scale(cells)
    group = WIDTH / len(table.rows)
    bar = max(4.0, (group - COLUMN_GAP * (series + 1)) / series)
    top_room, bottom_room = 16, 52
    # Past a year of columns, every other label: they would run into each other.
    label_every = 1 + (len(table.rows) - 1) // 12
    baseline = top_room + COLUMN_AREA
    parts = []
    for index, row in enumerate(table.rows):
        left = index * group
        for number, cell in enumerate(row.cells[:series]):
            x = round(left + COLUMN_GAP + number * (bar + COLUMN_GAP), 1)
            height = round(COLUMN_AREA * (cell.number or 0) / largest, 1)
            if cell.number:
                parts.append(
                    format_html(
                        '<rect class="chart__bar chart__bar--{}" x="{}" y="{}" width="{}" '
                        'height="{}"></rect>',
                        number + 1,
                        x,
                        round(baseline - height, 1),
                        round(bar, 1),
                        height,
                    )
                )
            parts.append(
                _value_text(cell, x=round(x + bar / 2, 1), y=baseline - height - 4, middle=True)
            )
        if index % label_every == 0:
            parts.append(_column_label(row.label, x=round(left + group / 2, 1), y=baseline + 14))
    parts.append(
        format_html(
            '<line class="chart__axis" x1="0" y1="{}" x2="{}" y2="{}"></line>',
            baseline,
            WIDTH,
            baseline,
        )
    )
    legend_y = baseline + 46
    parts.append(
        format_html_join(
            "",
            '<rect class="chart__bar chart__bar--{}" x="{}" y="{}" width="12" height="12"></rect>'
            '<text class="chart__legend" x="{}" y="{}">{}</text>',
            (
                (number + 1, number * 160, legend_y - 10, number * 160 + 16, legend_y, name)
                for number, name in enumerate(table.columns[:series])
            ),
        )
    )
    return _svg(baseline + bottom_room, mark_safe("".join(parts)), table.key)  # noqa: S308 - escaped parts


def _column_label(label: str, *, x: float, y: float) -> SafeString:
    """A label under its columns, on two lines when it has two words ("Jan" over "2026")."""
    first, _space, second = label.rpartition(" ") if " " in label else (label, "", "")
    return format_html(
        '<text class="chart__label" x="{}" y="{}" text-anchor="middle">'
        '<tspan x="{}">{}</tspan><tspan x="{}" dy="12">{}</tspan></text>',
        x,
        y,
        x,
        first,
        x,
        second,
    )


def _value_text(cell: Cell, *, x: float, y: float, middle: bool = False) -> SafeString:
    kind = "chart__value chart__value--hidden" if cell.hidden else "chart__value"
    anchor = "middle" if middle else "start"
    return format_html(
        '<text class="{}" x="{}" y="{}" text-anchor="{}">{}</text>', kind, x, y, anchor, cell.text
    )
