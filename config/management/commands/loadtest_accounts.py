"""Accounts for the load test (scripts/load-test, bench/locustfile.py).

Picks existing accounts of the configured database that have work to load the
server with: child-protection workers and DV coordinators who own open cases,
and CCR members whose institution has open referrals. Each gets a new random
password, a new confirmed authenticator and new backup codes, written to a
JSON file (mode 0600) for the load test and printed nowhere. It also picks the
case and the referral that several virtual users will update at once, to show
that no accepted update is lost (bench/lost_updates.py).
"""

import json
import os
import random
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import AuthenticatorDevice, User
from accounts.roles import Role
from accounts.services import backup_codes_replace, role_groups_sync
from protocol.models import OPEN_REFERRAL_STATES, Case, Referral, ReferralState, Stage

WORKER_ROLES = (Role.CHILD_PROTECTION_WORKER, Role.DV_COORDINATOR)
# Stages in which a plan takes new actions (protocol.services.plan_action_add).
PLAN_STAGES = (Stage.CONFERENCE_HELD, Stage.MONITORING)


class Command(BaseCommand):
    help = (
        "Give N child-protection workers or DV coordinators who own open cases, and N CCR "
        "members whose institution has open referrals, a new random password, a new "
        "authenticator and new backup codes, and write them to --output (mode 0600) for "
        "scripts/load-test. Their old password and second factor stop working. Debug only "
        "(DJANGO_DEBUG=1): never run it on a database with real people's accounts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path, help="the JSON file to write")
        parser.add_argument(
            "--workers", type=int, default=10, help="workers and DV coordinators (10)"
        )
        parser.add_argument("--members", type=int, default=10, help="CCR members (10)")
        parser.add_argument(
            "--cases-per-worker",
            type=int,
            default=20,
            help="open cases of each worker listed for the load test (20)",
        )
        parser.add_argument("--seed", type=int, default=None, help="repeat a choice of accounts")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "loadtest_accounts replaces the passwords and second factors of existing "
                "accounts: debug only (DJANGO_DEBUG=1)."
            )
        if options["workers"] < 1 or options["members"] < 1:
            raise CommandError("--workers and --members must be at least 1.")
        rng = random.Random(options["seed"])  # noqa: S311 - choosing accounts, not a secret
        with transaction.atomic():
            workers = _pick(rng, _workers(), options["workers"])
            members = _pick(rng, _members(), options["members"])
            if not workers:
                raise CommandError("No active worker or DV coordinator owns an open case.")
            if not members:
                raise CommandError("No active CCR member's institution has an open referral.")
            accounts = [
                *(_worker_entry(user, options["cases_per_worker"]) for user in workers),
                *(_member_entry(user) for user in members),
            ]
            contention = {
                "case": _contended_case(rng, accounts),
                "referral": _contended_referral(rng, accounts),
            }
            for entry, user in zip(accounts, [*workers, *members], strict=True):
                entry.update(_sign_in_secrets(user))
        _write_private(
            options["output"],
            {"accounts": accounts, "contention": contention, "made_at": timezone.now().isoformat()},
        )
        self.stdout.write(
            f"loadtest_accounts: {len(workers)} workers, {len(members)} CCR members; "
            f"contended case: {'yes' if contention['case'] else 'none found'}, "
            f"contended referral: {'yes' if contention['referral'] else 'none found'}; "
            f"wrote {options['output']}"
        )


def _workers():
    open_cases = Case.objects.filter(owner=OuterRef("pk")).exclude(stage=Stage.CLOSED)
    return User.objects.filter(
        Exists(open_cases),
        is_active=True,
        is_superuser=False,
        municipality__isnull=False,
        role_assignments__role__in=WORKER_ROLES,
    )


def _open_referrals():
    return Referral.objects.filter(state__in=OPEN_REFERRAL_STATES, expires_at__gt=timezone.now())


def _members():
    return User.objects.filter(
        Exists(_open_referrals().filter(institution_id=OuterRef("institution_id"))),
        is_active=True,
        is_superuser=False,
        institution__isnull=False,
        role_assignments__role=Role.CCR_MEMBER,
    )


def _pick(rng, accounts, how_many) -> list[User]:
    # Ids first: a national database has thousands of candidates, and a random
    # sample spreads the load over municipalities as real use does.
    ids = sorted(set(accounts.values_list("pk", flat=True)))
    chosen = rng.sample(ids, min(how_many, len(ids)))
    users = User.objects.in_bulk(chosen)
    return [users[pk] for pk in chosen]


def _worker_entry(user, cases_per_worker) -> dict:
    cases = list(
        Case.objects.filter(owner=user)
        .exclude(stage=Stage.CLOSED)
        .order_by("-updated_at")
        .values_list("number", "stage", "plan__id")[:cases_per_worker]
    )
    return {
        "username": user.username,
        "role": "worker",
        "roles": sorted(user.roles & set(WORKER_ROLES)),
        "cases": [number for number, _stage, _plan in cases],
        # Cases whose plan takes new actions: the versioned update of the load test.
        "plan_cases": [
            number for number, stage, plan in cases if plan is not None and stage in PLAN_STAGES
        ],
    }


def _member_entry(user) -> dict:
    return {
        "username": user.username,
        "role": "member",
        "roles": [Role.CCR_MEMBER.value],
        "institution": user.institution_id,
    }


def _contended_case(rng, accounts) -> dict | None:
    """A case with a plan, owned by a picked worker, that only the contention test updates."""
    candidates = [(entry, number) for entry in accounts for number in entry.get("plan_cases", [])]
    if not candidates:
        return None
    entry, number = rng.choice(candidates)
    # The rest of the mix leaves its version alone, so that the version counts the
    # contenders' accepted saves exactly.
    entry["plan_cases"].remove(number)
    return {
        "number": number,
        "username": entry["username"],
        "version": Case.objects.get(number=number).version,
    }


def _contended_referral(rng, accounts) -> dict | None:
    """An accepted referral to a picked member's institution, that only the contention test
    updates."""
    by_institution = {}
    for entry in accounts:
        if entry["role"] == "member":
            by_institution.setdefault(entry["institution"], entry["username"])
    referrals = list(
        _open_referrals()
        .filter(
            institution_id__in=by_institution,
            state__in=(ReferralState.ACCEPTED, ReferralState.IN_PROGRESS),
        )
        .values_list("pk", "institution_id", "version", "case__number")
    )
    if not referrals:
        return None
    pk, institution_id, version, number = rng.choice(sorted(referrals))
    return {
        "id": str(pk),
        "case_number": number,
        "username": by_institution[institution_id],
        "version": version,
    }


def _sign_in_secrets(user) -> dict:
    """A new password, authenticator and backup codes; the old ones stop working."""
    password = secrets.token_urlsafe(24)
    user.set_password(password)
    user.save()
    role_groups_sync(user=user)
    AuthenticatorDevice.objects.filter(user=user).delete()
    device = AuthenticatorDevice.create_for(user, confirmed=True, name="load test")
    return {
        "password": password,
        "totp": {
            "key_hex": device.secret.key,
            "step": device.step,
            "t0": device.t0,
            "digits": device.digits,
        },
        "backup_codes": backup_codes_replace(user=user),
    }


def _write_private(path: Path, data: dict) -> None:
    """Write `data` as JSON readable by its owner only, replacing the file if it exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=1)
