"""The figures as CSV and as a minimal XLSX workbook, written with the standard library.

Exports always carry suppressed tables (they leave the municipality). A text
cell that a spreadsheet would read as a formula (starting with = + - @, or a
tab or carriage return) gets a leading apostrophe; numbers stay numbers.
"""

import csv
import io
import re
import zipfile
from xml.sax.saxutils import escape

from audit.spreadsheets import defused

from .tables import TOTAL, ShownTable

Sheet = list[list[str | int | float | None]]


def sheet_of(heading: list[str], tables: list[ShownTable]) -> tuple[Sheet, int]:
    """The rows of an export: heading lines, then each table with its title, columns, rows and
    totals, a blank line between. Returns the rows and how many of them are figures."""
    rows: Sheet = [[line] for line in heading]
    figures = 0
    for table in tables:
        rows.append([])
        rows.append([table.title])
        header = ["", *table.columns]
        if table.has_row_totals:
            header.append(str(TOTAL))
        rows.append([*header, *table.derived_columns])
        for row in table.rows:
            values = [row.label, *(_value(cell) for cell in row.cells)]
            if row.total is not None:
                values.append(_value(row.total))
            values += [_value(cell) for cell in row.derived]
            rows.append(values)
            figures += 1
        if table.totals:
            rows.append([str(TOTAL), *(_value(cell) for cell in table.totals)])
            figures += 1
        if table.note:
            rows.append([str(table.note)])
    return rows, figures


def _value(cell):
    """A shown number as a number (rounded like the page), a hidden one as its mark."""
    if cell.number is None:
        return cell.text if cell.hidden else ""
    if isinstance(cell.number, int):
        return cell.number
    # A median or a share, as rounded on the page.
    if re.fullmatch(r"\d+", cell.text):
        return int(cell.text)
    if re.fullmatch(r"\d+\.\d+", cell.text):
        return float(cell.text)
    return cell.text


def csv_bytes(rows: Sheet) -> bytes:
    """UTF-8 with a byte-order mark, so that spreadsheets read the Albanian letters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(
            [
                "" if value is None else defused(value) if isinstance(value, str) else value
                for value in row
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- XLSX ---------------------------------------------------------------------------------------

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""

ROOT_RELATIONSHIPS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Target="xl/workbook.xml"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>
</Relationships>"""

WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""

WORKBOOK_RELATIONSHIPS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Target="worksheets/sheet1.xml"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>
</Relationships>"""

SHEET = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<sheetData>{rows}</sheetData>
</worksheet>"""

# Characters XML 1.0 does not allow, even escaped.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Characters a sheet name may not hold.
NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def column_letters(index: int) -> str:
    """A, B, ..., Z, AA, ... for the 0-based column `index`."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xml_text(text: str) -> str:
    return escape(NOT_XML.sub("", text), {'"': "&quot;"})


def _cell_xml(reference: str, value) -> str:
    if isinstance(value, bool) or value is None or value == "":
        return ""
    if isinstance(value, int | float):
        return f'<c r="{reference}"><v>{value!r}</v></c>'
    text = _xml_text(defused(str(value)))
    return f'<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def xlsx_bytes(rows: Sheet, *, sheet_name: str = "Mbrojtje") -> bytes:
    """A workbook of one sheet with `rows`: inline strings and numbers, no styles."""
    lines = []
    for number, row in enumerate(rows, start=1):
        cells = "".join(
            _cell_xml(f"{column_letters(column)}{number}", value)
            for column, value in enumerate(row)
        )
        lines.append(f'<row r="{number}">{cells}</row>')
    name = _xml_text(NOT_IN_SHEET_NAME.sub(" ", NOT_XML.sub("", sheet_name))[:31] or "Sheet1")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as workbook:
        workbook.writestr("[Content_Types].xml", CONTENT_TYPES)
        workbook.writestr("_rels/.rels", ROOT_RELATIONSHIPS)
        workbook.writestr("xl/workbook.xml", WORKBOOK.format(name=name))
        workbook.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELATIONSHIPS)
        workbook.writestr("xl/worksheets/sheet1.xml", SHEET.format(rows="".join(lines)))
    return buffer.getvalue()
