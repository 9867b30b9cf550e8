from django.db import migrations


def install(apps, schema_editor):
    from audit.protection import install_stored_encoding

    install_stored_encoding(schema_editor.connection)


def remove(apps, schema_editor):
    from audit.protection import remove_stored_encoding

    remove_stored_encoding(schema_editor.connection)


class Migration(migrations.Migration):
    """PostgreSQL keeps each event's encoding in a generated column, read by audit_verify."""

    dependencies = [("audit", "0003_flag_index_for_the_burst_rule")]

    operations = [migrations.RunPython(install, remove)]
