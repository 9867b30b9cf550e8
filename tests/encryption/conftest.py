import datetime

import pytest
from django.db import connection

from encryption.keyring import KeyRing
from tests.encryption.models import SampleNote, SampleRecord

TEST_MODELS = [SampleRecord, SampleRecord.history.model, SampleNote]

KEYS = {1: bytes(range(32)), 2: bytes(range(32, 64))}

VALUES = {
    "text": "Fëmija tregoi se babai e godet.\nNëna ka frikë të flasë.",
    "name": "Ëndrita Çela",
    "born_on": datetime.date(2014, 5, 17),
    "details": {"shkolla": "9-vjeçare", "vëllezër": [3, 7], "rrezik": True},
}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test-only models have no migrations: make their tables in the test database.

    `migrate --run-syncdb` may already have made them (the encryption app has no
    migrations), so only missing tables are made, and only those are dropped.
    """
    with django_db_blocker.unblock():
        existing = set(connection.introspection.table_names())
        created = [model for model in TEST_MODELS if model._meta.db_table not in existing]
        with connection.schema_editor() as editor:
            for model in created:
                editor.create_model(model)
    yield
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        for model in reversed(created):
            editor.delete_model(model)


@pytest.fixture
def use_keys(settings):
    """Call with key ids, e.g. use_keys(1, 2): the field keys in force from then on.

    Starts with key 1 alone."""

    def use(*key_ids: int) -> None:
        settings.FIELD_ENCRYPTION_KEYS = KeyRing({key_id: KEYS[key_id] for key_id in key_ids})

    use(1)
    return use


@pytest.fixture
def record(db, use_keys):
    """A saved SampleRecord holding VALUES, encrypted under key 1."""
    return SampleRecord.objects.create(**VALUES)
