"""Small-cell suppression: the pure function, on 1-D and 2-D tables."""

import random
from fractions import Fraction
from itertools import product

import pytest

from reports.suppression import Hidden, is_small, suppress

SMALL, OTHER = Hidden.SMALL, Hidden.COMPLEMENTARY


def hidden_cells(pattern) -> set[tuple[int, int]]:
    return {
        (r, c)
        for r, row in enumerate(pattern.cells)
        for c, why in enumerate(row)
        if why is not None
    }


def grid(cells, pattern, *, row_totals, column_totals):
    """Every shown position of the table with its value and whether it is hidden."""
    rows, columns = len(cells), len(cells[0])
    positions = {}
    for r, c in product(range(rows), range(columns)):
        positions[(r, c)] = (cells[r][c], pattern.cells[r][c])
    if row_totals:
        for r in range(rows):
            positions[(r, columns)] = (sum(cells[r]), pattern.row_totals[r])
    if column_totals:
        for c in range(columns):
            positions[(rows, c)] = (sum(row[c] for row in cells), pattern.column_totals[c])
    if row_totals and column_totals:
        positions[(rows, columns)] = (sum(map(sum, cells)), pattern.grand_total)
    return positions


def equations(cells, *, row_totals, column_totals):
    """Each shown total with the positions it adds up: (members, total position)."""
    rows, columns = len(cells), len(cells[0])
    lines = []
    if row_totals:
        for r in range(rows + (1 if column_totals else 0)):
            lines.append(([(r, c) for c in range(columns)], (r, columns)))
    if column_totals:
        for c in range(columns + (1 if row_totals else 0)):
            lines.append(([(r, c) for r in range(rows)], (rows, c)))
    return lines


def _rank(matrix: list[list[Fraction]]) -> int:
    matrix = [row[:] for row in matrix]
    rank, columns = 0, len(matrix[0]) if matrix else 0
    for column in range(columns):
        pivot = next((r for r in range(rank, len(matrix)) if matrix[r][column]), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for r in range(len(matrix)):
            if r != rank and matrix[r][column]:
                factor = matrix[r][column] / matrix[rank][column]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[rank], strict=True)]
        rank += 1
    return rank


def worked_out(cells, pattern, *, row_totals, column_totals) -> set[tuple[int, int]]:
    """The hidden positions a reader can compute exactly from the shown numbers by the
    linear equations of the totals (rank test: the unit vector is in the row space)."""
    positions = grid(cells, pattern, row_totals=row_totals, column_totals=column_totals)
    unknown = sorted(position for position, (_value, why) in positions.items() if why)
    if not unknown:
        return set()
    index = {position: i for i, position in enumerate(unknown)}
    matrix = []
    for members, total in equations(cells, row_totals=row_totals, column_totals=column_totals):
        row = [Fraction(0)] * len(unknown)
        for position in members:
            if position in index:
                row[index[position]] += 1
        if total in index:
            row[index[total]] -= 1
        if any(row):
            matrix.append(row)
    if not matrix:
        return set()
    base = _rank(matrix)
    found = set()
    for position, i in index.items():
        unit = [Fraction(0)] * len(unknown)
        unit[i] = Fraction(1)
        if _rank([*matrix, unit]) == base:
            found.add(position)
    return found


# --- Primary suppression ------------------------------------------------------------------


@pytest.mark.parametrize(("count", "small"), [(0, False), (1, True), (4, True), (5, False)])
def test_only_counts_from_one_to_four_are_small(count, small):
    assert is_small(count) is small


def test_a_table_without_small_counts_hides_nothing():
    pattern = suppress([[5, 0], [12, 30]], row_totals=True, column_totals=True)

    assert hidden_cells(pattern) == set()
    assert pattern.row_totals == [None, None]
    assert pattern.grand_total is None


def test_a_list_without_a_total_hides_only_the_small_counts():
    pattern = suppress([[3], [10], [0], [1]])

    assert [row[0] for row in pattern.cells] == [SMALL, None, None, SMALL]
    assert pattern.column_totals == []


# --- Complementary suppression in one dimension -------------------------------------------


def test_a_list_with_its_total_hides_a_second_count_the_smallest():
    pattern = suppress([[3], [12], [10], [40]], column_totals=True)

    assert [row[0] for row in pattern.cells] == [SMALL, None, OTHER, None]
    assert pattern.column_totals == [None]


def test_two_small_counts_in_a_list_protect_each_other():
    pattern = suppress([[2], [3], [40]], column_totals=True)

    assert [row[0] for row in pattern.cells] == [SMALL, SMALL, None]


def test_two_ones_are_not_enough_their_sum_tells_them():
    # 1 + 1 = total - 40 = 2: both known to be from 1 to 4, so both are 1.
    pattern = suppress([[1], [1], [40], [50]], column_totals=True)

    assert [row[0] for row in pattern.cells] == [SMALL, SMALL, OTHER, None]


def test_two_fours_are_not_enough_either():
    pattern = suppress([[4], [4], [9], [50]], column_totals=True)

    assert [row[0] for row in pattern.cells] == [SMALL, SMALL, OTHER, None]


def test_a_small_total_is_hidden_with_its_small_counts():
    pattern = suppress([[1], [2], [0]], column_totals=True)

    assert [row[0] for row in pattern.cells] == [SMALL, SMALL, None]
    assert pattern.column_totals == [SMALL]


def test_a_total_is_hidden_rather_than_a_zero():
    # Row 0 is 3 and 0: its total is small too. In the column of the row totals, 3 is
    # then alone: the other row total (9) goes, never the zeros, which would tell nothing.
    cells = [[3, 0], [0, 9]]

    pattern = suppress(cells, row_totals=True, column_totals=True)

    assert pattern.cells == [[SMALL, None], [None, OTHER]]
    assert pattern.row_totals == [SMALL, OTHER]
    assert worked_out(cells, pattern, row_totals=True, column_totals=True) == set()


# --- Two dimensions -------------------------------------------------------------------------


def test_a_small_cell_of_a_cross_table_hides_a_rectangle():
    cells = [[2, 8, 9], [7, 6, 11], [10, 12, 15]]

    pattern = suppress(cells, row_totals=True, column_totals=True)

    assert hidden_cells(pattern) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert pattern.cells[0][0] == SMALL
    assert pattern.cells[1][1] == OTHER
    assert pattern.row_totals == [None, None, None]
    assert pattern.column_totals == [None, None, None]
    assert worked_out(cells, pattern, row_totals=True, column_totals=True) == set()


def test_small_row_totals_of_a_cross_table_are_protected_too():
    # Row 0 adds up to 3: its total and its cells are small, and the column of the
    # row totals must hide another.
    cells = [[1, 2, 0], [9, 8, 7], [6, 5, 10]]

    pattern = suppress(cells, row_totals=True, column_totals=True)

    assert pattern.row_totals[0] == SMALL
    assert sum(why is not None for why in pattern.row_totals) >= 2
    assert worked_out(cells, pattern, row_totals=True, column_totals=True) == set()


def test_a_cross_table_with_only_row_totals_protects_each_row():
    cells = [[3, 20, 30], [40, 50, 60]]

    pattern = suppress(cells, row_totals=True)

    assert hidden_cells(pattern) == {(0, 0), (0, 1)}
    assert pattern.column_totals == []
    assert worked_out(cells, pattern, row_totals=True, column_totals=False) == set()


def test_a_hidden_chain_between_two_rectangles_is_broken():
    # Two separate rectangles of hidden cells joined by one hidden cell would leave that
    # cell computable; whatever the choices, no hidden cell may be.
    cells = [
        [2, 9, 50, 60, 70],
        [9, 9, 50, 60, 70],
        [50, 60, 3, 9, 70],
        [50, 60, 9, 9, 70],
    ]

    pattern = suppress(cells, row_totals=True, column_totals=True)

    assert worked_out(cells, pattern, row_totals=True, column_totals=True) == set()


def test_rows_must_be_of_one_length():
    with pytest.raises(ValueError, match="same number of cells"):
        suppress([[1, 2], [3]])


def test_an_empty_table_hides_nothing():
    pattern = suppress([], column_totals=True)

    assert pattern.cells == []


@pytest.mark.parametrize("seed", range(200))
def test_random_tables_hide_every_small_count_and_give_none_away(seed):
    rng = random.Random(seed)  # noqa: S311 - repeatable tables, not secrets
    rows, columns = rng.randint(1, 5), rng.randint(1, 4)
    cells = [
        [rng.choice([0, 0, 1, 2, 3, 4, 5, 7, 12, 30]) for _ in range(columns)] for _ in range(rows)
    ]
    row_totals, column_totals = rng.choice([(True, True), (False, True), (True, False)])

    pattern = suppress(cells, row_totals=row_totals, column_totals=column_totals)
    positions = grid(cells, pattern, row_totals=row_totals, column_totals=column_totals)

    for position, (value, why) in positions.items():
        if is_small(value):
            assert why == SMALL, position
        elif why:
            assert why == OTHER, position
    computable = worked_out(cells, pattern, row_totals=row_totals, column_totals=column_totals)
    assert computable == set(), (cells, pattern)
    # Every shown total hides none or at least two of its members.
    for members, total in equations(cells, row_totals=row_totals, column_totals=column_totals):
        if total in positions:
            line = [p for p in [*members, total] if p in positions]
            assert sum(bool(positions[p][1]) for p in line) != 1, (line, cells, pattern)
