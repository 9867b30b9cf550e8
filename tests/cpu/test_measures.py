from accounts.models import Institution
from cpu.models import ProtectionMeasure
from tests.cases import register_child_case
from tests.conftest import signed_in_client
from tests.factories import InstitutionFactory


def measure_form(**overrides):
    data = {"kind": "emergency_placement", "started_on": "2026-03-01", "details": "Te gjyshja."}
    data.update(overrides)
    return data


def test_worker_records_an_emergency_placement_awaiting_the_court(worker):
    case = register_child_case(worker)
    client = signed_in_client(worker)
    response = client.post(
        case.get_absolute_url().replace("/cases/", "/cases/child/") + "measures/new/",
        measure_form(),
    )
    assert response.status_code == 302
    measure = ProtectionMeasure.objects.get()
    assert measure.needs_court_confirmation
    page = client.get(case.get_absolute_url()).content.decode()
    assert "në pritje të konfirmimit nga gjykata" in page


def test_measure_ending_before_it_starts_is_refused(worker):
    case = register_child_case(worker)
    url = case.get_absolute_url().replace("/cases/", "/cases/child/") + "measures/new/"
    response = signed_in_client(worker).post(url, measure_form(ended_on="2026-02-01"))
    assert response.status_code == 200
    assert "Masa nuk mund të mbarojë para se të fillojë." in response.content.decode()
    assert not ProtectionMeasure.objects.exists()


def test_court_of_another_municipality_is_not_offered(worker, other_municipality, municipality):
    InstitutionFactory(
        municipality=municipality, name="Gjykata Durrës", kind=Institution.Kind.COURT
    )
    InstitutionFactory(
        municipality=other_municipality, name="Gjykata Berat", kind=Institution.Kind.COURT
    )
    case = register_child_case(worker)
    url = case.get_absolute_url().replace("/cases/", "/cases/child/") + "measures/new/"
    page = signed_in_client(worker).get(url).content.decode()
    assert "Gjykata Durrës" in page
    assert "Gjykata Berat" not in page


def test_measures_page_is_404_without_access(worker, other_worker, foreign_head):
    case = register_child_case(worker)
    url = case.get_absolute_url().replace("/cases/", "/cases/child/") + "measures/new/"
    for user in (other_worker, foreign_head):
        client = signed_in_client(user)
        assert client.get(url).status_code == 404
        assert client.post(url, measure_form()).status_code == 404
    assert not ProtectionMeasure.objects.exists()
