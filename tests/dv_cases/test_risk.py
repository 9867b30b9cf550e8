import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from dv_cases.models import RiskAssessment, RiskQuestion, RiskQuestionnaire
from dv_cases.selectors import active_questionnaire
from dv_cases.services import risk_assessment_record
from encryption.fields import Ciphertext
from protocol.models import Assessment, Stage
from protocol.services import StaleEdit
from tests.conftest import signed_in_client


@pytest.fixture
def questionnaire(db):
    RiskQuestionnaire.objects.update(is_active=False)
    questionnaire = RiskQuestionnaire.objects.create(
        name="Test", is_active=True, high_threshold=6, medium_threshold=3
    )
    for order, (weight, critical) in enumerate([(3, False), (3, False), (1, True)], start=1):
        RiskQuestion.objects.create(
            questionnaire=questionnaire,
            order=order,
            text=f"Pyetja {order}?",
            weight=weight,
            is_critical=critical,
        )
    return questionnaire


def answers_of(questionnaire, *yes):
    """Yes to the questions at the given positions (1-based), no to the others."""
    return {q.pk: q.order in yes for q in questionnaire.questions.all()}


@pytest.mark.parametrize(
    ("yes", "score", "level"),
    [
        ((), 0, "low"),
        ((1,), 3, "medium"),
        ((1, 2), 6, "high"),
        # A yes to the critical question is high risk whatever the score.
        ((3,), 1, "high"),
    ],
)
def test_score_maps_to_level_through_the_thresholds(questionnaire, yes, score, level):
    assert questionnaire.evaluate(answers_of(questionnaire, *yes)) == (score, level)


def test_default_questionnaire_is_in_use_from_the_start(db):
    questionnaire = active_questionnaire()

    questions = list(questionnaire.questions.all())
    assert len(questions) == 12
    assert (questionnaire.high_threshold, questionnaire.medium_threshold) == (10, 5)
    assert any("vrasë" in q.text and q.is_critical for q in questions)
    assert questionnaire.evaluate({q.pk: False for q in questions}) == (0, "low")


def test_first_risk_assessment_moves_the_case_from_registered_to_assessed(
    questionnaire, coordinator, dv_case
):
    assert dv_case.stage == Stage.REGISTERED

    assessment = risk_assessment_record(
        by=coordinator,
        case=dv_case,
        version=dv_case.version,
        questionnaire=questionnaire,
        answers=answers_of(questionnaire, 1),
        notes="Frikësohet të kthehet në shtëpi.",
    )

    dv_case.refresh_from_db()
    assert (assessment.score, assessment.risk_level) == (3, "medium")
    assert (dv_case.stage, dv_case.risk_level) == (Stage.ASSESSED, "medium")
    assert dv_case.assessed_at == assessment.assessed_at
    protocol_assessment = Assessment.objects.get(case=dv_case)
    assert protocol_assessment.risk_level == "medium"
    assert "Frikësohet" in protocol_assessment.findings


def test_reassessment_changes_the_risk_level_without_moving_the_case(
    questionnaire, coordinator, dv_case
):
    risk_assessment_record(
        by=coordinator,
        case=dv_case,
        version=dv_case.version,
        questionnaire=questionnaire,
        answers=answers_of(questionnaire),
    )
    dv_case.refresh_from_db()
    version = dv_case.version

    risk_assessment_record(
        by=coordinator,
        case=dv_case,
        version=version,
        questionnaire=questionnaire,
        answers=answers_of(questionnaire, 3),
    )

    dv_case.refresh_from_db()
    assert (dv_case.stage, dv_case.risk_level) == (Stage.ASSESSED, "high")
    assert dv_case.version == version + 1
    assert Assessment.objects.filter(case=dv_case).count() == 1
    assert dv_case.risk_assessments.count() == 2


def test_answers_leaving_out_a_question_are_refused(questionnaire, coordinator, dv_case):
    answers = answers_of(questionnaire, 1)
    answers.popitem()

    with pytest.raises(ValidationError):
        risk_assessment_record(
            by=coordinator,
            case=dv_case,
            version=dv_case.version,
            questionnaire=questionnaire,
            answers=answers,
        )

    assert not RiskAssessment.objects.exists()


def test_stale_version_is_refused(questionnaire, coordinator, dv_case):
    with pytest.raises(StaleEdit):
        risk_assessment_record(
            by=coordinator,
            case=dv_case,
            version=dv_case.version - 1,
            questionnaire=questionnaire,
            answers=answers_of(questionnaire),
        )

    dv_case.refresh_from_db()
    assert dv_case.stage == Stage.REGISTERED
    assert not RiskAssessment.objects.exists()


def test_answers_and_notes_are_stored_encrypted(questionnaire, coordinator, dv_case):
    assessment = risk_assessment_record(
        by=coordinator,
        case=dv_case,
        version=dv_case.version,
        questionnaire=questionnaire,
        answers=answers_of(questionnaire, 2),
        notes="shënim",
    )

    answers, notes = RiskAssessment.objects.values_list("answers", "notes").get(pk=assessment.pk)
    assert isinstance(answers, Ciphertext)
    assert isinstance(notes, Ciphertext)
    assert b"true" not in bytes(answers)


def risk_url(case):
    return f"/cases/dv/{case.number}/risk/new/"


def test_risk_assessment_page_asks_the_questions_and_records_the_answers(
    questionnaire, coordinator, dv_case
):
    client = signed_in_client(coordinator)
    page = client.get(risk_url(dv_case))
    assert page.status_code == 200
    assert "Pyetja 1?" in page.content.decode()
    data = {
        "version": dv_case.version,
        "assessed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "notes": "",
    }
    for question in questionnaire.questions.all():
        data[f"question_{question.pk}"] = "yes" if question.order == 2 else "no"

    response = client.post(risk_url(dv_case), data)

    assessment = RiskAssessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == dv_case.get_absolute_url() + f"#risk-assessment-{assessment.pk}"
    dv_case.refresh_from_db()
    assert (dv_case.stage, dv_case.risk_level) == (Stage.ASSESSED, "medium")


def test_unanswered_question_is_shown_and_the_answers_kept(questionnaire, coordinator, dv_case):
    first, second, third = questionnaire.questions.all()
    client = signed_in_client(coordinator)

    response = client.post(
        risk_url(dv_case),
        {
            "version": dv_case.version,
            "assessed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            f"question_{first.pk}": "yes",
            f"question_{second.pk}": "no",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_question_{third.pk}_error"' in page
    assert f'id="id_question_{first.pk}_0" required checked' in page
    assert not RiskAssessment.objects.exists()


def test_risk_page_with_a_stale_version_saves_nothing(questionnaire, coordinator, dv_case):
    client = signed_in_client(coordinator)
    data = {
        "version": dv_case.version - 1,
        "assessed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    for question in questionnaire.questions.all():
        data[f"question_{question.pk}"] = "no"

    response = client.post(risk_url(dv_case), data)

    assert response.status_code == 200
    assert 'class="form-errors"' in response.content.decode()
    assert not RiskAssessment.objects.exists()


def test_without_a_questionnaire_in_use_the_page_says_so(coordinator, dv_case):
    RiskQuestionnaire.objects.update(is_active=False)

    response = signed_in_client(coordinator).get(risk_url(dv_case))

    assert response.status_code == 200
    assert 'name="version"' not in response.content.decode()
