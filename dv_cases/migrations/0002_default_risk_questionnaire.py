"""A first risk questionnaire, in use from the start: yes/no questions typical of DV
risk assessment tools. Data, not code: the municipality's experts review the
questions, weights and thresholds in the admin, and replace the questionnaire
with a new one rather than editing it once it has been used."""

from django.db import migrations

NAME = "Vlerësimi i rrezikut në rastet e dhunës në familje"
HIGH_THRESHOLD = 10
MEDIUM_THRESHOLD = 5

# (question, points for a yes, critical: a yes means high risk whatever the score)
QUESTIONS = [
    ("A e ka kërcënuar dhunuesi viktimën se do ta vrasë?", 3, True),
    ("A zotëron dhunuesi armë, ose a mund të sigurojë lehtësisht një të tillë?", 3, False),
    ("A është përpjekur dhunuesi ta mbysë viktimën (p.sh. duke e zënë për fyti)?", 3, True),
    ("A është rritur kohët e fundit shpeshtësia ose ashpërsia e dhunës?", 2, False),
    ("A është ndarë viktima nga dhunuesi kohët e fundit, ose a po përpiqet të ndahet?", 2, False),
    (
        "A është dhunuesi tepër xheloz, apo kontrollon vazhdimisht se ku shkon, me kë "
        "takohet dhe me kë flet viktima?",
        1,
        False,
    ),
    ("A ka ushtruar dhunuesi dhunë ndaj viktimës gjatë shtatzënisë?", 2, False),
    ("A ka kërcënuar dhunuesi se do t'u bëjë keq fëmijëve, ose a ka ushtruar dhunë ndaj tyre?", 2, False),
    ("A abuzon dhunuesi me alkoolin ose me lëndë narkotike?", 1, False),
    ("A ka shkelur dhunuesi më parë një urdhër mbrojtjeje ose një masë tjetër të gjykatës?", 2, False),
    ("A beson viktima se dhunuesi mund ta vrasë?", 3, True),
    (
        "A mund të hyjë dhunuesi në banesën e viktimës (ka çelësa, banon aty ose pranë saj)?",
        2,
        False,
    ),
]


def add_questionnaire(apps, schema_editor):
    RiskQuestionnaire = apps.get_model("dv_cases", "RiskQuestionnaire")
    RiskQuestion = apps.get_model("dv_cases", "RiskQuestion")
    questionnaire, created = RiskQuestionnaire.objects.get_or_create(
        name=NAME,
        defaults={
            "is_active": not RiskQuestionnaire.objects.filter(is_active=True).exists(),
            "high_threshold": HIGH_THRESHOLD,
            "medium_threshold": MEDIUM_THRESHOLD,
        },
    )
    if created:
        RiskQuestion.objects.bulk_create(
            RiskQuestion(
                questionnaire=questionnaire,
                order=order,
                text=text,
                weight=weight,
                is_critical=is_critical,
            )
            for order, (text, weight, is_critical) in enumerate(QUESTIONS, start=1)
        )


def remove_questionnaire(apps, schema_editor):
    RiskQuestionnaire = apps.get_model("dv_cases", "RiskQuestionnaire")
    RiskQuestionnaire.objects.filter(name=NAME, assessments__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("dv_cases", "0001_initial")]

    operations = [migrations.RunPython(add_questionnaire, remove_questionnaire)]
