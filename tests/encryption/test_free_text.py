"""Free text typed by users is encrypted at rest and bounded in length, everywhere.

The walks below go over every installed model (simple-history's tables and
third-party apps included) and every form of the project: a new text field
fails here until it is encrypted, or listed with the reason it cannot hold
personal data, and until it has a length limit.
"""

import importlib

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from simple_history.models import HistoricalChanges

from audit import services as audit_services
from audit.context import Actor
from audit.models import Action, AuditEvent, FlagReviewComment
from encryption.fields import EncryptedField, EncryptedJSONField, _EncryptedString
from protocol.models import Case, Note
from tests.cases import register_child_case
from tests.encryption.raw import read_column

# Text columns that stay in clear, each with why it cannot hold personal data
# about the people of a case. History tables share the entries of the model
# they track.
CLEAR_TEXT = {
    # Django and third-party apps
    "admin.LogEntry.object_id": "a primary key",
    "admin.LogEntry.object_repr": "str() of an object, which never shows a sensitive value "
    "(style rule); the admin edits only municipalities, institutions, deadlines and "
    "questionnaires",
    "admin.LogEntry.change_message": "JSON naming the fields changed, never their values",
    "auth.Permission.name": "a permission's name, from the code",
    "auth.Permission.codename": "a permission's code",
    "auth.Group.name": "a group's name, made from a role or an institution id",
    "contenttypes.ContentType.app_label": "an app's label",
    "contenttypes.ContentType.model": "a model's name",
    "sessions.Session.session_key": "a random key",
    "sessions.Session.session_data": "signed session data: account and device ids, the "
    "page to return to; views never keep typed text in the session",
    "guardian.UserObjectPermission.object_pk": "a primary key",
    "guardian.GroupObjectPermission.object_pk": "a primary key",
    "simple_history.history_change_reason": "set only by services, to identifiers "
    "(e.g. 'transfer <id>')",
    "simple_history.history_type": "a choice (+, ~, -)",
    # accounts: the public structure of the municipalities, and the staff
    "accounts.Municipality.name": "a municipality's name, public",
    "accounts.Municipality.code": "a municipality's code",
    "accounts.AdministrativeUnit.name": "an administrative unit's name, public",
    "accounts.Institution.kind": "a choice",
    "accounts.Institution.name": "an institution's name, public",
    "accounts.User.password": "a password hash",
    "accounts.User.username": "a staff account's username",
    "accounts.User.first_name": "a staff member's name, shown to colleagues in every "
    "institution a case passes through; never a name of a case's people",
    "accounts.User.last_name": "a staff member's name (as first_name)",
    "accounts.User.email": "a staff member's work address, needed in clear to send mail",
    "accounts.RoleAssignment.role": "a choice",
    "accounts.AuthenticatorDevice.name": "a device label set by the code",
    "accounts.BackupCodeDevice.name": "a device label set by the code",
    "accounts.BackupCode.digest": "a hash",
    "accounts.Notification.kind": "a choice",
    "accounts.Notification.case_number": "a case number",
    "accounts.Notification.target_url": "a page address made of identifiers",
    "accounts.User.email_requested": "a staff member's work address waiting for "
    "confirmation (as email)",
    "accounts.ActivationLink.purpose": "a choice",
    "accounts.ActivationLink.token_digest": "a hash of the token",
    "accounts.ActivationLink.sent_to": "a staff member's work address (as User.email)",
    "accounts.AdministrativeAct.what": "a code of the act",
    "accounts.RequestRefusal.roles": "a list of role codes",
    "accounts.SignInThrottle.account": "a keyed hash of the username as typed",
    "accounts.SignInThrottle.client": "a keyed hash of the client's address",
    # audit: identifiers only (see docs/audit.md)
    "audit.AuditEvent.action": "a choice",
    "audit.AuditEvent.object_type": "a model label",
    "audit.AuditEvent.object_id": "a primary key",
    "audit.AuditEvent.case_number": "a case number",
    "audit.AuditEvent.part": "codes of the parts of a case",
    "audit.AuditEvent.ip_address": "an IP address of staff",
    "audit.AuditEvent.justification": "a legal basis's code: record() refuses anything else",
    "audit.AuditEvent.detail": "JSON of identifiers and counts, built by the code",
    "audit.Checkpoint.payload": "hashes and counts",
    "audit.Checkpoint.signature": "a signature",
    "audit.Flag.kind": "a choice",
    # protocol
    "protocol.Case.kind": "a choice",
    "protocol.Case.number": "a case number",
    "protocol.Case.stage": "a choice",
    "protocol.Case.risk_level": "a choice",
    "protocol.Case.reported_risk_level": "a choice",
    "protocol.Case.report_channel": "a choice",
    "protocol.Case.reporter_kind": "a choice",
    "protocol.Case.closure_reason": "a choice",
    "protocol.Case.next_due": "a code of what is due",
    "protocol.CaseNeed.need": "a choice",
    "protocol.Person.role": "a choice",
    "protocol.Person.sex": "a choice",
    "protocol.Person.age_group": "a choice",
    "protocol.Person.relationship_to_victim": "a choice",
    "protocol.Person.name_index": "a blind index (keyed hash)",
    "protocol.Person.personal_number_index": "a blind index (keyed hash)",
    "protocol.Person.name_birth_index": "a blind index (keyed hash)",
    "protocol.StageTransition.action": "a code of the stage engine",
    "protocol.StageTransition.from_stage": "a choice",
    "protocol.StageTransition.to_stage": "a choice",
    "protocol.DeadlineSetting.key": "a choice",
    "protocol.DeadlineSetting.legal_basis": "the article of law behind a deadline",
    "protocol.ReopenSetting.stage": "a choice",
    "protocol.ReopenSetting.legal_basis": "the article of law behind the reopening stage",
    "protocol.PlanAction.status": "a choice",
    "protocol.Assessment.risk_level": "a choice",
    "protocol.Review.risk_level": "a choice",
    "protocol.Document.category": "a choice",
    "protocol.Document.content_type": "a choice",
    "protocol.Document.storage_name": "a random file name",
    "protocol.CaseTransfer.state": "a choice",
    "protocol.Meeting.kind": "a choice",
    "protocol.Referral.parts": "JSON list of part codes, checked by the service",
    "protocol.Referral.urgency": "a choice",
    "protocol.Referral.legal_basis": "a choice",
    "protocol.Referral.state": "a choice",
    # cpu, dv_cases
    "cpu.ProtectionMeasure.kind": "a choice",
    "dv_cases.Incident.forms": "JSON list of choices",
    "dv_cases.RiskQuestionnaire.name": "a questionnaire's name, kept by the IT unit",
    "dv_cases.RiskQuestion.text": "a question of the questionnaire, kept by the IT unit",
    "dv_cases.RiskAssessment.risk_level": "a choice",
    "dv_cases.ProtectionOrder.kind": "a choice",
    "dv_cases.ProtectionOrder.requested_by": "a choice",
    "dv_cases.ProtectionOrder.outcome": "a choice",
}

# Text columns without a length limit, each with why nobody types into them.
UNBOUNDED_TEXT = {
    "admin.LogEntry.object_id": "written by the admin, from a primary key",
    "admin.LogEntry.change_message": "written by the admin",
    "sessions.Session.session_data": "written by Django",
    "audit.AuditEvent.detail": "built by the code from identifiers",
    "audit.AuditEvent.justification": "record() refuses anything but a code of 40 characters",
    "audit.Checkpoint.payload": "built by the code",
    "dv_cases.RiskQuestion.text": "typed by the IT unit in the Django admin, not by staff",
    "protocol.Referral.parts": "a list of codes, checked by the service",
    "accounts.RequestRefusal.roles": "a list of role codes, from the service",
    "dv_cases.Incident.forms": "a list of choices, checked by the form",
    "dv_cases.RiskAssessment.answers": "yes/no answers keyed by question id, from the form",
}

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def project_models():
    """Every installed model but the test-only ones of this folder (and their history)."""
    return [
        model
        for model in apps.get_models()
        if not getattr(model, "instance_type", model).__module__.startswith("tests.")
    ]


def entry(model, field) -> str:
    """The name of a field in the lists above; a history table's mirrored fields use
    the tracked model's name."""
    if issubclass(model, HistoricalChanges):
        if field.name in ("history_change_reason", "history_type"):
            return f"simple_history.{field.name}"
        model = model.instance_type
    return f"{model._meta.label}.{field.name}"


def test_every_free_text_field_is_encrypted_unless_listed_with_its_reason():
    in_clear = sorted(
        name
        for model in project_models()
        for field in model._meta.concrete_fields
        if isinstance(field, TEXT_FIELDS)
        and not isinstance(field, EncryptedField)
        and (name := entry(model, field)) not in CLEAR_TEXT
    )
    assert in_clear == [], "encrypt these fields, or list them in CLEAR_TEXT with a reason"


def test_every_field_listed_in_clear_exists_and_is_in_clear():
    found = {
        entry(model, field): field
        for model in project_models()
        for field in model._meta.concrete_fields
    }
    stale = [name for name in CLEAR_TEXT if name not in found]
    encrypted = [name for name in CLEAR_TEXT if isinstance(found.get(name), EncryptedField)]
    assert (stale, encrypted) == ([], [])
    assert all(reason.strip() for reason in CLEAR_TEXT.values())


def test_every_text_field_has_a_length_limit():
    unbounded = sorted(
        name
        for model in project_models()
        for field in model._meta.concrete_fields
        if isinstance(field, (*TEXT_FIELDS, _EncryptedString, EncryptedJSONField))
        and field.max_length is None
        and (name := entry(model, field)) not in UNBOUNDED_TEXT
    )
    assert unbounded == []


def project_forms():
    """Every form class of the project: the URL configuration imports every view, and
    the views every form."""
    importlib.import_module("config.urls")
    found, pending = [], [forms.BaseForm]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.split(".")[0] in {
                "accounts",
                "audit",
                "cpu",
                "dv_cases",
                "protocol",
                "reports",
            }:
                found.append(subclass)
    return found


def test_every_text_input_of_every_form_has_a_length_limit():
    found = project_forms()
    assert len(found) > 30  # the walk found the forms
    unbounded = sorted(
        f"{form.__module__}.{form.__name__}.{name}"
        for form in found
        for name, field in form.base_fields.items()
        if isinstance(field, forms.CharField) and field.max_length is None
    )
    assert unbounded == []


# --- At rest, and at save ------------------------------------------------------------------


def test_reason_to_register_despite_a_duplicate_is_stored_encrypted(worker):
    reason = "Vëlla i Artës Hoxha, rast tjetër."
    case = register_child_case(worker, duplicate_override_reason=reason)
    assert Case.objects.get(pk=case.pk).duplicate_override_reason == reason
    stored = read_column(Case, "duplicate_override_reason", case.pk)
    history = case.history.model
    stored_history = read_column(history, "duplicate_override_reason", case.history.get().pk)
    for raw in (stored, stored_history):
        assert b"Hoxha" not in raw


def test_officers_review_comment_is_stored_encrypted(worker):
    event = audit_services.record(Action.BREAK_GLASS, actor=_actor(worker))
    flag = event.flags.get()
    comment = "Arta Hoxha u gjet natën; hapja ishte e drejtë."
    audit_services.flag_review(by=worker, flag=flag, comment=comment)
    written = FlagReviewComment.objects.get(review__flag=flag)
    assert written.review.comment == comment
    assert b"Hoxha" not in read_column(FlagReviewComment, "comment", written.pk)


def test_a_too_long_value_is_refused_at_save_even_without_validation(worker):
    case = register_child_case(worker)
    note = Note(case=case, written_by=worker, text="x" * 4001)
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        note.save()
    assert list(refused.value.message_dict) == ["text"]
    assert not Note.objects.filter(case=case).exists()


def test_a_value_stored_before_the_limit_is_kept_when_the_row_is_saved_again(worker):
    case = register_child_case(worker)
    note = Note(case=case, written_by=worker, text="x" * 4000)
    note.save()
    # As if stored before the limit: the limit is lowered under it.
    field = Note._meta.get_field("text")
    original = field.validators
    try:
        field.__dict__["validators"] = [type(original[0])(100)]
        reloaded = Note.objects.get(pk=note.pk)
        assert len(reloaded.text) == 4000  # read, and saved unchanged
        reloaded.save()
    finally:
        field.__dict__.pop("validators", None)
    assert len(Note.objects.get(pk=note.pk).text) == 4000


def test_an_audit_event_refuses_a_typed_justification(worker):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="justification is a code"):
        audit_services.record(
            Action.CASE_VIEWED, actor=_actor(worker), justification="Arta Hoxha u gjet."
        )
    assert AuditEvent.objects.count() == before


def _actor(user):
    return Actor.of(user, "10.1.2.3")
