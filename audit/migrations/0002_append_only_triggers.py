from django.db import migrations


def install(apps, schema_editor):
    from audit.protection import install

    install(schema_editor.connection)


def remove(apps, schema_editor):
    from audit.protection import remove

    remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_events_checkpoints_flags")]

    operations = [migrations.RunPython(install, remove)]
