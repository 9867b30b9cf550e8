import pytest
from django.core.management import call_command


@pytest.fixture
def checkpoint_keys(settings, tmp_path):
    """A fresh signing key pair and checkpoint file, outside the database as in production."""
    settings.MBROJTJE_AUDIT_SIGNING_KEY = tmp_path / "keys" / "signing.pem"
    settings.MBROJTJE_AUDIT_VERIFY_KEY = tmp_path / "keys" / "verify.pem"
    settings.MBROJTJE_AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints" / "checkpoints.jsonl"
    call_command("audit_keygen", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return settings
