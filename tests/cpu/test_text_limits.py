from protocol.models import Case
from tests.conftest import signed_in_client
from tests.protocol.test_case_views import REGISTRATION


def test_a_too_long_report_is_refused_with_the_limit_and_no_case_is_registered(worker):
    response = signed_in_client(worker).post(
        "/cases/child/new/", {**REGISTRATION, "summary": "x" * 10_001}
    )
    assert response.status_code == 200
    assert "ka të shumtën 10000 shenja (ka 10001)" in response.content.decode()
    assert not Case.objects.exists()
