"""Default deadlines of the protocol. Held as data: the legal texts behind several
were not confirmed, and a municipality may set its own values."""

from django.db import migrations

DEFAULTS = [
    ("assessment_high_risk_hours", 24, "VKM 578/2018 (to confirm)"),
    ("assessment_other_hours", 72, "VKM 578/2018 (to confirm)"),
    ("conference_days", 3, "VKM 578/2018 (to confirm)"),
    ("plan_days", 10, "VKM 578/2018 (to confirm)"),
    ("review_days", 90, "VKM 578/2018 (to confirm)"),
    ("dv_risk_assessment_hours", 24, "Law 9669/2006 as amended (to confirm)"),
    ("umm_decision_hours", 48, "Law 9669/2006 as amended (to confirm)"),
    ("um_hearing_days", 15, "Law 9669/2006 as amended (to confirm)"),
    ("order_expiry_warning_days", 7, ""),
]


def add_defaults(apps, schema_editor):
    DeadlineSetting = apps.get_model("protocol", "DeadlineSetting")
    for key, value, legal_basis in DEFAULTS:
        DeadlineSetting.objects.get_or_create(
            municipality=None, key=key, defaults={"value": value, "legal_basis": legal_basis}
        )


def remove_defaults(apps, schema_editor):
    DeadlineSetting = apps.get_model("protocol", "DeadlineSetting")
    DeadlineSetting.objects.filter(municipality=None, key__in=[k for k, _v, _b in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("protocol", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
