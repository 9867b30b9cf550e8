from django.utils import timezone

from dv_cases.models import Incident
from tests.conftest import signed_in_client


def test_a_too_long_incident_is_refused_with_the_limit_and_nothing_is_saved(coordinator, dv_case):
    before = Incident.objects.filter(case=dv_case).count()
    response = signed_in_client(coordinator).post(
        f"/cases/dv/{dv_case.number}/incidents/new/",
        {
            "occurred_on": timezone.localdate().isoformat(),
            "forms_of_violence": ["physical"],
            "narrative": "x" * 10_001,
        },
    )
    assert response.status_code == 200
    assert "ka të shumtën 10000 shenja (ka 10001)" in response.content.decode()
    assert Incident.objects.filter(case=dv_case).count() == before
