"""The reports pages by role: who reaches them, what they show, links, suppression, exports."""

import csv
import io
import json
import re
import zipfile
from xml.etree import ElementTree

import pytest
from django.conf import settings

from audit.models import Action, AuditEvent
from tests.conftest import signed_in_client

from .conftest import NAMES, period_query
from .pages import figures_of

pytestmark = pytest.mark.django_db

READERS = ("head", "coordinator", "officer", "statistician")
OTHERS = ("worker", "police", "admin", "berat_worker")
PAGES = ("/reports/", "/reports/yearly/", "/reports/export/csv/", "/reports/export/xlsx/")
SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def client_of(world, who):
    client = signed_in_client(world.users[who])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def page_of(world, who, path="/reports/", **query):
    response = client_of(world, who).get(path, period_query(**query))
    assert response.status_code == 200, (who, path, response.status_code)
    return response.content.decode()


def detail_of(event) -> dict:
    return json.loads(event.detail)


def exported(kind=None):
    events = AuditEvent.objects.filter(action=Action.EXPORTED)
    return events.filter(object_type=kind) if kind else events


# --- Who reaches what ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", READERS)
def test_each_reader_reaches_every_reports_page(world, who):
    client = client_of(world, who)
    for path in PAGES:
        assert client.get(path, period_query()).status_code == 200, path


@pytest.mark.parametrize("who", OTHERS)
def test_every_other_role_gets_404_on_every_reports_page(world, who):
    client = client_of(world, who)
    for path in [*PAGES, "/reports/export/pdf/"]:
        assert client.get(path).status_code == 404, path
    assert exported().count() == 0


def test_an_unknown_export_format_is_404_for_a_reader_too(world):
    assert client_of(world, "head").get("/reports/export/pdf/").status_code == 404


def test_the_navigation_offers_reports_to_the_readers_only(world):
    for who in READERS:
        assert 'href="/reports/"' in client_of(world, who).get("/").content.decode(), who
    for who in ("worker", "police", "admin"):
        assert 'href="/reports/"' not in client_of(world, who).get("/").content.decode(), who


def test_the_statistician_reaches_no_case(world):
    client = client_of(world, "statistician")
    assert client.get("/cases/").status_code == 404
    for case in world.cases.values():
        assert client.get(case.get_absolute_url()).status_code == 404

    pages = [
        page_of(world, "statistician"),
        page_of(world, "statistician", municipality=world.durres.pk),
        page_of(world, "statistician", municipality=world.durres.pk, unit=world.units[0].pk),
        page_of(world, "statistician", "/reports/yearly/", municipality=world.durres.pk),
        client.get("/reports/export/csv/", period_query()).content.decode("utf-8-sig"),
    ]
    for page in pages:
        for case in world.cases.values():
            assert case.number not in page
        for name in NAMES:
            assert name not in page
        assert "/cases/" not in page


def test_the_officer_sees_figures_of_her_municipality_only(world):
    page = page_of(world, "officer")
    summary = figures_of(page)["summary"].counts()

    assert summary["Open at some time in the period"] == ["6"]  # not Berat's case
    assert "/cases/?" not in page
    for case in world.cases.values():
        assert case.number not in page


# --- Drill-down ---------------------------------------------------------------------------------


def test_the_head_follows_a_figure_to_the_cases_behind_it(world):
    client = client_of(world, "head")
    figures = figures_of(page_of(world, "head"))

    link = figures["by_stage"].links["Implementation and monitoring"]
    assert link == "/cases/?kind=child&stage=monitoring"
    assert figures["by_stage"].counts()["Implementation and monitoring"] == ["1"]
    listed = client.get(link).content.decode()
    assert world.cases["C1"].number in listed
    assert world.cases["C2"].number not in listed
    unit = figures["by_unit"].links["Njësia 1"]
    assert unit == f"/cases/?kind=child&unit={world.units[0].pk}"
    assert world.cases["C2"].number in client.get(unit).content.decode()


def test_the_coordinator_follows_dv_figures_to_dv_cases_only(world):
    client = client_of(world, "coordinator")
    figures = figures_of(page_of(world, "coordinator"))

    link = figures["by_stage"].links["Identification and referral"]
    assert link == "/cases/?kind=dv&stage=registered"
    listed = client.get(link).content.decode()
    assert world.cases["D1"].number in listed
    assert world.cases["D2"].number in listed
    assert world.cases["C3"].number not in listed


@pytest.mark.parametrize("who", ["officer", "statistician"])
def test_officers_and_the_statistician_get_no_links(world, who):
    for figure in figures_of(page_of(world, who)).values():
        assert figure.links == {}


# --- Suppression -------------------------------------------------------------------------------


def test_the_municipal_view_shows_exact_small_counts(world):
    figures = figures_of(page_of(world, "head"))

    assert figures["by_stage"].counts()["Identification and referral"] == ["1"]
    assert figures["by_kind"].counts() == {"Child in need of protection": ["4"], "Total": ["4"]}


def test_the_national_view_hides_small_counts_and_what_would_give_them_away(world):
    figures = figures_of(page_of(world, "statistician"))

    # Child 5 (Durrës 4, Berat 1), DV 2: the 2 is small, the 5 goes with it, the total stays.
    assert figures["by_kind"].counts() == {
        "Child in need of protection": ["x"],
        "Domestic violence": ["<5"],
        "Total": ["7"],
    }
    by_municipality = figures["by_municipality"].counts()
    assert by_municipality["Durrës"] == ["<5", "<5", "x"]
    for label, shown in figures["by_stage"].counts().items():
        assert all(value in ("<5", "x", "0") or int(value) >= 5 for value in shown), label


def test_exports_hide_small_counts_even_for_the_head(world):
    response = client_of(world, "head").get("/reports/export/csv/", period_query())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert ["Identification and referral", "<5"] in rows
    assert ["Closed", "<5"] in rows
    assert not any(row[:1] == ["Overdue cases by worker in charge (now)"] for row in rows)


# --- Exports ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("who", READERS)
def test_each_export_writes_exactly_one_exported_event(world, who, fmt):
    client = client_of(world, who)
    before = exported().count()

    response = client.get(f"/reports/export/{fmt}/", period_query())

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert exported().count() == before + 1
    event = exported().latest("occurred_at")
    assert event.object_type == "reports.figures"
    assert event.actor_id == world.users[who].pk
    assert detail_of(event)["format"] == fmt
    assert detail_of(event)["from"] == period_query()["date_from"]
    assert detail_of(event)["rows"] > 10


def test_the_dashboard_itself_writes_no_export_event(world):
    page_of(world, "statistician")

    assert exported().count() == 0


def test_an_export_with_wrong_filters_sends_back_to_the_page(world):
    response = client_of(world, "head").get(
        "/reports/export/csv/", {"year": 2025, "quarter": 2, "month": 5}
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/reports/?")
    assert exported().count() == 0


def test_the_export_records_the_chosen_municipality(world):
    client_of(world, "statistician").get(
        "/reports/export/csv/", period_query(municipality=world.durres.pk)
    )

    event = exported().get()
    assert detail_of(event)["municipality"] == world.durres.pk
    assert event.municipality_id == world.durres.pk


def test_the_xlsx_export_is_a_workbook_with_the_numbers_of_the_csv(world):
    client = client_of(world, "statistician")
    workbook = client.get("/reports/export/xlsx/", period_query()).content
    text = client.get("/reports/export/csv/", period_query()).content.decode("utf-8-sig")

    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        sheet = ElementTree.fromstring(  # noqa: S314 - our own output
            archive.read("xl/worksheets/sheet1.xml")
        )
        for part in ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"):
            ElementTree.fromstring(  # noqa: S314 - our own output
                archive.read(part)
            )
    assert {
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/worksheets/sheet1.xml",
    } <= names
    csv_rows = list(csv.reader(io.StringIO(text)))
    sheet_rows = [
        [_cell_value(cell) for cell in row.iter(f"{SHEET}c")] for row in sheet.iter(f"{SHEET}row")
    ]
    assert len(sheet_rows) == len(csv_rows)
    numbers = 0
    for csv_row, sheet_row in zip(csv_rows, sheet_rows, strict=True):
        assert [value for value in csv_row if value != ""] == [str(value) for value in sheet_row]
        numbers += sum(isinstance(value, int | float) for value in sheet_row)
    assert numbers > 50
    total = next(row for row in sheet_rows if row[:1] == ["Total"] and row[1:] == [7])
    assert total == ["Total", 7]


def _cell_value(cell):
    number = cell.find(f"{SHEET}v")
    if number is not None:
        value = float(number.text)
        return int(value) if value.is_integer() and "." not in number.text else value
    return "".join(cell.find(f"{SHEET}is").itertext())


# --- Charts, filters and the yearly report -------------------------------------------------------


@pytest.mark.parametrize("who", ["head", "statistician"])
def test_charts_show_the_numbers_of_their_tables(world, who):
    figures = figures_of(page_of(world, who, "/reports/"))
    charted = 0
    for key, figure in figures.items():
        if not figure.chart:
            continue
        charted += 1
        rows = [shown for label, shown in figure.rows if label != "Total"]
        if key == "by_month":
            expected = [value for shown in rows for value in shown]
        elif len(rows[0]) == 1:
            expected = [shown[0] for shown in rows]
        else:
            expected = [shown[-1] for shown in rows]  # the row totals
        assert figure.chart == expected, key
    assert charted >= 8


def test_the_page_carries_no_inline_script_or_style(world):
    page = page_of(world, "statistician")

    # Scripts come from files of the site (CSP script-src 'self'), never inline.
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page)


def test_filters_by_quarter_or_month_and_refuses_both(world):
    client = client_of(world, "head")

    page = client.get("/reports/", {"year": 2025, "quarter": 2}).content.decode()
    assert "Q2 2025" in page
    page = client.get("/reports/", {"year": 2025, "quarter": 2, "month": 5}).content.decode()
    assert "Choose a quarter or a month, not both." in page


def test_a_unit_of_another_municipality_is_not_a_choice(world):
    from accounts.models import AdministrativeUnit

    foreign = AdministrativeUnit.objects.create(municipality=world.berat, name="Njësia e Beratit")

    page = client_of(world, "head").get("/reports/", period_query(unit=foreign.pk)).content
    assert "Select a valid choice" in page.decode()


def test_the_yearly_report_is_published_suppressed_and_recorded(world):
    page = client_of(world, "head").get("/reports/yearly/").content.decode()

    figures = figures_of(page)
    assert "Yearly report" in page
    assert all(figure.links == {} for figure in figures.values())
    assert "overdue_by_worker" not in figures
    event = exported("reports.yearly").get()
    assert detail_of(event)["format"] == "print"
    assert exported("reports.figures").count() == 0
