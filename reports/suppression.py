"""Small-cell suppression of a table of counts, for every figure that leaves a municipality.

A count from 1 to 4 could point at one family, so it is hidden ("primary"
suppression). A hidden cell must not be recoverable by subtraction either:
wherever a row or a column is shown with its total, the total minus the other
cells gives the hidden one back. So every such line that hides exactly one of
its members (cells and total) hides one more ("complementary" suppression),
until no line hides exactly one. Zero is not a small count: it is shown.

Pure functions on lists of integers; nothing here knows what is counted.
A table of R rows and C columns is thought of as a grid of R+1 by C+1
positions: the cells, the row totals in column C, the column totals in row R,
and the grand total at (R, C).

Two refinements close the gaps a reader could still use: hidden small counts
whose known sum leaves each one value (1 + 1, 4 + 4) count as exposed; and with
both totals shown, a hidden position that lies on no cycle of hidden positions
can be worked out by chaining rows and columns, so another position is hidden
until none does (the table is then a transportation problem whose free values
are exactly the cycles).
"""

from dataclasses import dataclass
from enum import StrEnum

SMALLEST_SHOWN = 5


class Hidden(StrEnum):
    SMALL = "small"  # a count from 1 to 4: shown as "<5"
    COMPLEMENTARY = "complementary"  # hidden so that a small count cannot be worked out


def is_small(count: int) -> bool:
    return 0 < count < SMALLEST_SHOWN


@dataclass(frozen=True)
class Pattern:
    """Which positions of a table are hidden, and why; None where the number is shown."""

    cells: list[list[Hidden | None]]
    row_totals: list[Hidden | None]
    column_totals: list[Hidden | None]
    grand_total: Hidden | None


def suppress(
    cells: list[list[int]], *, row_totals: bool = False, column_totals: bool = False
) -> Pattern:
    """The suppression pattern of `cells` shown with the totals asked for.

    The grand total is shown when both totals are. Each complementary choice is
    the smallest non-zero count of the line (ties: one whose other line already
    hides something, so that fewer lines are disturbed; then the first), else
    its total, else a zero cell.
    """
    rows = len(cells)
    columns = len(cells[0]) if rows else 0
    if any(len(row) != columns for row in cells):
        raise ValueError("every row needs the same number of cells")
    values = _grid_with_totals(cells)
    present = {(r, c) for r in range(rows) for c in range(columns)}
    if row_totals:
        present |= {(r, columns) for r in range(rows)}
    if column_totals:
        present |= {(rows, c) for c in range(columns)}
    if row_totals and column_totals:
        present.add((rows, columns))
    lines = _lines(rows, columns, present, row_totals=row_totals, column_totals=column_totals)
    hidden = {position: Hidden.SMALL for position in present if is_small(values[position])}
    both_totals = row_totals and column_totals
    while True:
        line = next((line for line in lines if _exposed(line, values, hidden)), None)
        if line is None and both_totals:
            line = _line_through_bridge(hidden, lines)
        if line is None:
            break
        hidden[_complement(line, values, hidden, lines)] = Hidden.COMPLEMENTARY
    return Pattern(
        cells=[[hidden.get((r, c)) for c in range(columns)] for r in range(rows)],
        row_totals=[hidden.get((r, columns)) for r in range(rows)] if row_totals else [],
        column_totals=[hidden.get((rows, c)) for c in range(columns)] if column_totals else [],
        grand_total=hidden.get((rows, columns)) if row_totals and column_totals else None,
    )


def _grid_with_totals(cells: list[list[int]]) -> dict[tuple[int, int], int]:
    rows = len(cells)
    columns = len(cells[0]) if rows else 0
    values = {(r, c): cells[r][c] for r in range(rows) for c in range(columns)}
    for r in range(rows):
        values[(r, columns)] = sum(cells[r])
    for c in range(columns):
        values[(rows, c)] = sum(cells[r][c] for r in range(rows))
    values[(rows, columns)] = sum(map(sum, cells))
    return values


def _lines(rows, columns, present, *, row_totals, column_totals) -> list[tuple]:
    """Each shown total with the members it is the sum of; its total is the last member."""
    lines = []
    if row_totals:
        for r in range(rows + 1):
            line = tuple((r, c) for c in range(columns + 1) if (r, c) in present)
            if (r, columns) in present and len(line) > 1:
                lines.append(line)
    if column_totals:
        for c in range(columns + 1):
            line = tuple((r, c) for r in range(rows + 1) if (r, c) in present)
            if (rows, c) in present and len(line) > 1:
                lines.append(line)
    return lines


def _exposed(line, values, hidden) -> bool:
    """Whether the line's total gives away what it hides.

    It does when it hides one member only; or when all it hides are small
    counts (known to be 1 to 4) whose sum, the total minus the shown cells,
    leaves them one possible value each: all ones, or all fours.
    """
    concealed = [position for position in line if position in hidden]
    if len(concealed) == 1:
        return True
    *_members, total = line
    if not concealed or total in hidden:
        return False
    if any(hidden[position] is not Hidden.SMALL for position in concealed):
        return False
    return sum(values[position] for position in concealed) in {
        len(concealed),
        (SMALLEST_SHOWN - 1) * len(concealed),
    }


def _line_through_bridge(hidden, lines):
    """With both totals shown, a hidden position is worked out exactly when it lies on no
    cycle of hidden positions (alternately along a row and a column of the grid with
    totals): a bridge of that graph. The row (else column) of the first bridge found."""
    for row, column in _bridges(hidden):
        for line in lines:
            if (row, column) in line and any(position not in hidden for position in line):
                return line
    return None


def _bridges(hidden) -> list[tuple[int, int]]:
    """The bridges of the bipartite graph whose nodes are rows and columns and whose
    edges are the hidden positions (Tarjan's algorithm, iterative)."""
    neighbours: dict[tuple, list[tuple]] = {}
    for row, column in hidden:
        neighbours.setdefault(("row", row), []).append(("column", column))
        neighbours.setdefault(("column", column), []).append(("row", row))
    order, low, bridges = {}, {}, []
    for root in sorted(neighbours):
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, None, iter(neighbours[root]))]
        while stack:
            node, parent, pending = stack[-1]
            step = next(pending, None)
            if step is None:
                stack.pop()
                if parent is not None:
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        edge = (node, parent) if node[0] == "row" else (parent, node)
                        bridges.append((edge[0][1], edge[1][1]))
                continue
            if step == parent:
                continue
            if step in order:
                low[node] = min(low[node], order[step])
            else:
                order[step] = low[step] = len(order)
                stack.append((step, node, iter(neighbours[step])))
    return sorted(bridges)


def _complement(line, values, hidden, lines) -> tuple[int, int]:
    """The member of `line` to hide next to the one it already hides."""
    *members, total = line
    shown = [position for position in members if position not in hidden]

    def disturbs(position) -> bool:
        # False (sorted first) when another line through it already hides something.
        return not any(
            position in other and any(member in hidden for member in other)
            for other in lines
            if other is not line
        )

    non_zero = sorted(
        (position for position in shown if values[position] > 0),
        key=lambda position: (values[position], disturbs(position), position),
    )
    if non_zero:
        return non_zero[0]
    if total not in hidden:
        return total
    return shown[0]
