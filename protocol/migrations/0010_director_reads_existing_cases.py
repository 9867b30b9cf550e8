"""The director of social services supervises both kinds of case: the group of
the role in each municipality gets what the heads' and coordinators' groups
hold on every existing case (new cases get it from protocol.access).

The names and codenames are written out rather than imported, so that the
migration does the same thing whatever the code becomes. Rows are written in
bulk: a national database holds about 100,000 cases, eight rows each.
"""

from django.db import migrations

ROLE = "head_of_social_services"
# protocol.access.FULL_ACCESS as it stood when the role came.
FULL_ACCESS = (
    "view_case",
    "change_case",
    "view_identity",
    "view_incidents",
    "view_risk",
    "view_orders",
    "view_plan",
    "view_documents",
)
BATCH = 2_000


def _group_name(municipality_id: int) -> str:
    return f"municipality-{municipality_id}:{ROLE}"


def grant_director_access(apps, schema_editor):
    Case = apps.get_model("protocol", "Case")
    CaseGroupObjectPermission = apps.get_model("protocol", "CaseGroupObjectPermission")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission_ids = list(
        Permission.objects.filter(
            content_type__app_label="protocol",
            content_type__model="case",
            codename__in=FULL_ACCESS,
        ).values_list("pk", flat=True)
    )
    if len(permission_ids) != len(FULL_ACCESS):
        # A new database: its permissions come after the migrations, and it has no case.
        return
    groups = {}
    rows = []
    cases = Case.objects.order_by("pk").values_list("pk", "municipality_id")
    for case_id, municipality_id in cases.iterator(chunk_size=BATCH):
        if municipality_id not in groups:
            groups[municipality_id] = Group.objects.get_or_create(
                name=_group_name(municipality_id)
            )[0].pk
        rows += [
            CaseGroupObjectPermission(
                content_object_id=case_id,
                group_id=groups[municipality_id],
                permission_id=permission_id,
            )
            for permission_id in permission_ids
        ]
        if len(rows) >= BATCH:
            CaseGroupObjectPermission.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    CaseGroupObjectPermission.objects.bulk_create(rows, ignore_conflicts=True)


def revoke_director_access(apps, schema_editor):
    CaseGroupObjectPermission = apps.get_model("protocol", "CaseGroupObjectPermission")
    CaseGroupObjectPermission.objects.filter(
        group__name__startswith="municipality-", group__name__endswith=f":{ROLE}"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("protocol", "0009_encrypt_duplicate_override_reason"),
    ]

    operations = [
        migrations.RunPython(grant_director_access, revoke_director_access),
    ]
