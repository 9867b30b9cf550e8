"""The CSV and XLSX writers, without the database."""

import csv
import io
import zipfile
from xml.etree import ElementTree

import pytest

from audit.spreadsheets import defused
from reports.exports import column_letters, csv_bytes, sheet_of, xlsx_bytes
from reports.tables import Row, Table

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("<5", "<5"),
        ("Durrës", "Durrës"),
        ("", ""),
    ],
)
def test_a_text_a_spreadsheet_would_run_is_defused(text, shown):
    assert defused(text) == shown


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letters(index, letters):
    assert column_letters(index) == letters


ROWS = [
    ["Mbrojtje — Durrës"],
    [],
    ["", "Rastet", "Ndarë"],
    ['Fëmijë <5 & "të tjerë"', 12, 3.5],
    ["=1+1", 0, "<5"],
    ["-rrezik", None, "x"],
    ["kontroll\x01", 1000000, 0.25],
]


def parsed_sheet(workbook: bytes) -> list[list]:
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        sheet = ElementTree.fromstring(  # noqa: S314 - our own output
            archive.read("xl/worksheets/sheet1.xml")
        )
    rows = []
    for row in sheet.iter(f"{MAIN}row"):
        values = {}
        for cell in row.iter(f"{MAIN}c"):
            column = "".join(ch for ch in cell.get("r") if ch.isalpha())
            number = cell.find(f"{MAIN}v")
            if number is not None:
                value = float(number.text)
                values[column] = int(value) if "." not in number.text else value
            else:
                assert cell.get("t") == "inlineStr"
                values[column] = "".join(cell.find(f"{MAIN}is").itertext())
        rows.append(values)
    return rows


def test_the_workbook_has_the_parts_of_a_minimal_xlsx_each_well_formed():
    workbook = xlsx_bytes(ROWS, sheet_name="Durrës: 2025/Q1 [a]")

    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/worksheets/sheet1.xml",
        ]
        for name in archive.namelist():
            ElementTree.fromstring(  # noqa: S314 - our own output
                archive.read(name)
            )
        book = ElementTree.fromstring(  # noqa: S314 - our own output
            archive.read("xl/workbook.xml")
        )
    sheet_name = next(book.iter(f"{MAIN}sheet")).get("name")
    assert sheet_name == "Durrës  2025 Q1  a "


def test_numbers_and_texts_round_trip_through_the_sheet():
    rows = parsed_sheet(xlsx_bytes(ROWS))

    assert rows[0] == {"A": "Mbrojtje — Durrës"}
    assert rows[1] == {}
    assert rows[3] == {"A": 'Fëmijë <5 & "të tjerë"', "B": 12, "C": 3.5}
    assert rows[4] == {"A": "'=1+1", "B": 0, "C": "<5"}
    assert rows[5] == {"A": "'-rrezik", "C": "x"}
    assert rows[6] == {"A": "kontroll", "B": 1000000, "C": 0.25}


def test_the_csv_keeps_numbers_and_defuses_formulas():
    content = csv_bytes(ROWS)

    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[3] == ['Fëmijë <5 & "të tjerë"', "12", "3.5"]
    assert rows[4] == ["'=1+1", "0", "<5"]
    assert rows[5] == ["'-rrezik", "", "x"]


def test_a_table_becomes_rows_with_its_title_totals_and_hidden_marks():
    table = Table(
        "orders",
        "Orders",
        ["granted", "rejected"],
        [Row("UPMM", [12, 2], derived=[1.5]), Row("UMM", [8, 7], derived=[None])],
        row_totals=True,
        column_totals=True,
        derived_columns=["median"],
    )

    rows, figures = sheet_of(["Heading"], [table.shown(suppressed=True, links=False)])

    assert rows == [
        ["Heading"],
        [],
        ["Orders"],
        ["", "granted", "rejected", "Total", "median"],
        # The 2 is small; 12 goes with it in its row, then 8 and 7 in their columns.
        ["UPMM", "x", "<5", 14, "x"],
        ["UMM", "x", "x", 15, ""],
        ["Total", 20, 9, 29],
    ]
    assert figures == 3
