"""A figure as a table of counts, and the same table as shown: small counts suppressed or
not, with links to the case list or without.

Pages, charts and exports all draw from `Table.shown()`, so a chart cannot show
a number its table hides.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from .suppression import Hidden, suppress

SHOWN_HIDDEN = {Hidden.SMALL: "<5", Hidden.COMPLEMENTARY: "x"}
TOTAL = _("Total")


@dataclass
class Row:
    label: str
    counts: list[int]
    # Query of the case list that shows the cases of this row (for who may follow it).
    link: str = ""
    # Values that are not counts (a median, a share), shown after the counts.
    derived: list[float | None] = field(default_factory=list)


@dataclass
class Table:
    """A figure: rows of counts under named columns.

    `row_totals`/`column_totals` say whether the counts add up along rows and
    columns (a case is in one stage only) and the totals are shown; a
    breakdown where a case can count in several rows (forms of violence) has
    no total. `derived_columns` name the values of `Row.derived`; `chart` is
    "bars", "columns" or "" (none).
    """

    key: str
    title: str
    columns: list[str]
    rows: list[Row]
    row_totals: bool = False
    column_totals: bool = False
    derived_columns: list[str] = field(default_factory=list)
    derived_format: str = "{:.1f}"
    chart: str = "bars"
    note: str = ""

    def shown(self, *, suppressed: bool, links: bool) -> "ShownTable":
        return ShownTable.of(self, suppressed=suppressed, links=links)


@dataclass(frozen=True)
class Cell:
    number: float | None  # None when hidden or empty
    text: str
    hidden: Hidden | None = None


def _count_cell(count: int, hidden: Hidden | None) -> Cell:
    if hidden:
        return Cell(None, SHOWN_HIDDEN[hidden], hidden)
    return Cell(count, str(count))


@dataclass(frozen=True)
class ShownRow:
    label: str
    cells: list[Cell]
    total: Cell | None
    derived: list[Cell]
    link: str


@dataclass(frozen=True)
class ShownTable:
    key: str
    title: str
    columns: list[str]
    derived_columns: list[str]
    rows: list[ShownRow]
    totals: list[Cell]  # the column totals, with the grand total last when rows have totals
    has_row_totals: bool
    chart: str
    note: str

    @classmethod
    def of(cls, table: Table, *, suppressed: bool, links: bool) -> "ShownTable":
        counts = [row.counts for row in table.rows]
        if suppressed and counts:
            pattern = suppress(
                counts, row_totals=table.row_totals, column_totals=table.column_totals
            )
        else:
            pattern = None
        rows = []
        for index, row in enumerate(table.rows):
            hidden = pattern.cells[index] if pattern else [None] * len(row.counts)
            total_hidden = pattern.row_totals[index] if pattern and table.row_totals else None
            cells = [_count_cell(count, why) for count, why in zip(row.counts, hidden, strict=True)]
            total = _count_cell(sum(row.counts), total_hidden) if table.row_totals else None
            # A median or share of a row with any hidden count would tell what is hidden.
            row_hidden = any(hidden) or bool(total_hidden)
            derived = [
                Cell(None, SHOWN_HIDDEN[Hidden.COMPLEMENTARY], Hidden.COMPLEMENTARY)
                if row_hidden and value is not None
                else Cell(value, "—" if value is None else table.derived_format.format(value))
                for value in row.derived
            ]
            rows.append(ShownRow(row.label, cells, total, derived, row.link if links else ""))
        totals = []
        if table.column_totals:
            columns = len(table.columns)
            for column in range(columns):
                count = sum(row.counts[column] for row in table.rows)
                totals.append(
                    _count_cell(count, pattern.column_totals[column] if pattern else None)
                )
            if table.row_totals:
                grand = sum(sum(row.counts) for row in table.rows)
                totals.append(_count_cell(grand, pattern.grand_total if pattern else None))
        return cls(
            key=table.key,
            title=table.title,
            columns=table.columns,
            derived_columns=table.derived_columns,
            rows=rows,
            totals=totals,
            has_row_totals=table.row_totals,
            chart=table.chart,
            note=table.note,
        )

    @property
    def data_rows(self) -> int:
        """Rows of an export: one per row, and one for the totals."""
        return len(self.rows) + (1 if self.totals else 0)
