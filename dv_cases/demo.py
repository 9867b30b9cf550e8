"""The DV parts of the demo cases: incidents, risk questionnaires, orders, shelters.

Called by seed_demo through protocol.demo's hooks, with the same random source,
so that the demo is the same every time it is made.
"""

from datetime import timedelta

from django.utils import timezone

from accounts.models import Institution
from protocol.models import Case, Stage

from . import services
from .models import OrderKind, OrderOutcome, OrderRequester
from .selectors import active_questionnaire

PLACES = [
    "brenda shtëpisë",
    "në rrugë, pranë shtëpisë",
    "te vendi i punës së viktimës",
    "në oborrin e pallatit",
    "në makinë, gjatë rrugës për te prindërit",
    "në shtëpinë e prindërve të viktimës",
    "para shkollës së fëmijëve",
]
NARRATIVES = [
    "Dhunuesi e goditi viktimën me grusht pas një debati për paratë.",
    "Kërcënime me jetë me telefon dhe para derës, para fëmijëve.",
    "E shtyu viktimën në shkallë; fqinjët thirrën policinë.",
    "I mori telefonin dhe paratë e rrogës; e mbylli në shtëpi për dy ditë.",
    "E kërcënoi me thikë në prani të djalit 10-vjeçar.",
    "E ofendoi dhe e poshtëroi para të afërmve; i theu sendet e shtëpisë.",
    "E tërhoqi zvarrë nga makina dhe e goditi në fytyrë.",
    "E ndoqi te puna dhe e kërcënoi se do t'ia merrte fëmijët.",
]
RISK_NOTES = [
    "Intervistë me viktimën.",
    "Intervistë me viktimën në prani të punonjëses së strehëzës.",
    "Viktima flet me frikë; dhunuesi ka armë zjarri të paligjshme.",
    "Intervistë në polici, me raportin e mjekut ligjor.",
]
ORDER_MEASURES = [
    "Ndalim afrimi te viktima dhe fëmijët në 200 metra.",
    "Largim nga banesa dhe ndalim afrimi në 100 metra.",
    "Ndalim kontakti me telefon dhe rrjete sociale; detyrim ushqimi për fëmijët.",
]
SHELTER_NOTES = ["Me dy fëmijët.", "Vetëm.", "Me vajzën 4-vjeçare.", "Me tre fëmijët."]


def assess(*, case: Case, by, rng, assessed_at) -> None:
    """The first risk assessment, with the questionnaire in use; it moves the case on."""
    questionnaire = active_questionnaire()
    answers = {question.pk: rng.random() < 0.35 for question in questionnaire.questions.all()}
    services.risk_assessment_record(
        by=by,
        case=case,
        version=case.version,
        questionnaire=questionnaire,
        answers=answers,
        notes=rng.choice(RISK_NOTES),
        assessed_at=assessed_at,
    )


def add_parts(*, case: Case, by, rng) -> None:
    """An incident on every case; orders on cases past the assessment, some about to expire,
    some with a court decision overdue; a stay in a shelter for a few."""
    reported = timezone.localtime(case.reported_at).date()
    services.incident_record(
        by=by,
        case=case,
        occurred_on=reported - timedelta(days=rng.randint(0, 2)),
        place=rng.choice(PLACES),
        forms=list(case.needs.values_list("need", flat=True)),
        narrative=rng.choice(NARRATIVES),
        injuries=rng.random() < 0.5,
        children_present=rng.random() < 0.4,
    )
    case.refresh_from_db()
    if case.stage in (Stage.REGISTERED, Stage.ASSESSED):
        return
    police = Institution.objects.filter(
        municipality_id=case.municipality_id, kind=Institution.Kind.POLICE
    ).first()
    court = Institution.objects.filter(
        municipality_id=case.municipality_id, kind=Institution.Kind.COURT
    ).first()
    requested = case.reported_at + timedelta(hours=2)
    upmm = services.protection_order_record(
        by=by,
        case=case,
        kind=OrderKind.UPMM,
        requested_by=OrderRequester.POLICE,
        requested_at=requested,
        issuing_institution=police,
        measures="Largim i menjëhershëm nga banesa.",
        covers_children=True,
    )
    case.refresh_from_db()
    services.protection_order_decide(
        by=by,
        order=upmm,
        version=case.version,
        outcome=OrderOutcome.GRANTED,
        decided_at=requested + timedelta(hours=1),
        valid_from=timezone.localtime(requested).date(),
        expires_on=timezone.localtime(requested).date() + timedelta(days=15),
    )
    case.refresh_from_db()
    today = timezone.localdate()
    umm = services.protection_order_record(
        by=by,
        case=case,
        kind=OrderKind.UMM,
        requested_by=OrderRequester.VICTIM,
        requested_at=requested + timedelta(days=1),
        issuing_institution=court,
        measures=rng.choice(ORDER_MEASURES),
        covers_children=True,
    )
    case.refresh_from_db()
    choice = rng.random()
    if int(case.number[-1]) % 4 == 0:
        return  # Left pending: the court's decision is overdue.
    outcome = OrderOutcome.GRANTED if choice < 0.85 else OrderOutcome.REJECTED
    # Some orders expire within the warning window, the rest later.
    expires = today + timedelta(days=rng.choice([3, 5, 40, 90]))
    services.protection_order_decide(
        by=by,
        order=umm,
        version=case.version,
        outcome=outcome,
        decided_at=umm.requested_at + timedelta(hours=30),
        valid_from=timezone.localtime(umm.requested_at).date() + timedelta(days=1)
        if outcome == OrderOutcome.GRANTED
        else None,
        expires_on=expires if outcome == OrderOutcome.GRANTED else None,
    )
    case.refresh_from_db()
    shelter = Institution.objects.filter(
        municipality_id=case.municipality_id, kind=Institution.Kind.SHELTER
    ).first()
    if shelter and rng.random() < 0.3:
        services.shelter_placement_record(
            by=by,
            case=case,
            shelter=shelter,
            placed_on=timezone.localtime(requested).date() + timedelta(days=1),
            notes=rng.choice(SHELTER_NOTES),
        )
