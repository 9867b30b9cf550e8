from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import demo
from accounts.models import (
    ActivationLink,
    AdministrativeUnit,
    AuthenticatorDevice,
    BackupCodeDevice,
    Institution,
    Municipality,
    Notification,
    RoleAssignment,
    User,
)
from accounts.notifications import notify
from accounts.roles import Role
from accounts.services import (
    activation_link_issue,
    activation_url,
    approvers_of,
    backup_codes_replace,
    role_groups_sync,
)
from dv_cases import demo as dv_demo
from protocol.demo import seed_activity, seed_cases, seed_referrals, seed_stories

# Backup codes shown per account (of MBROJTJE_BACKUP_CODE_COUNT that each has): enough
# to sign in a few times in a demo, and a table that fits a terminal.
DEMO_CODES_SHOWN = 3
# Where the accounts and their codes are kept for `demo_accounts`: the codes are only
# hashed in the database. Under var/, which git ignores; debug only.
ACCOUNTS_FILE = Path(settings.BASE_DIR) / "var" / "demo-accounts.txt"


class Command(BaseCommand):
    help = (
        "Fill the database with the demo: Durrës and Berat, their administrative units and "
        "institutions, one account per role in each and about 40 cases in every stage, all "
        "invented. Safe to run again: it creates what is missing, gives every account fresh "
        "backup codes and durres.pmf3 (waiting for activation) a fresh activation link, and "
        "writes them to var/demo-accounts.txt, which `demo_accounts` prints. "
        "Refuses to run outside debug (DJANGO_DEBUG=1)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--accounts-file",
            type=Path,
            default=ACCOUNTS_FILE,
            help="where to write the accounts and their backup codes (var/demo-accounts.txt)",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo makes accounts with a public password: debug only.")
        with transaction.atomic():
            rows = self._seed()
            waiting_url = self._awaiting_activation()
        for index, municipality in enumerate(
            Municipality.objects.filter(
                code__in=[spec["code"] for spec in demo.MUNICIPALITIES]
            ).order_by("code")
        ):
            with transaction.atomic():
                cases = seed_cases(
                    municipality,
                    seed=index + 1,
                    dv_assess=dv_demo.assess,
                    dv_parts=dv_demo.add_parts,
                )
            if cases:
                self.stdout.write(f"{municipality}: {len(cases)} demo cases.")
            with transaction.atomic():
                referrals = seed_referrals(municipality)
            if referrals:
                self.stdout.write(f"{municipality}: {referrals} demo referrals.")
            with transaction.atomic():
                for story in seed_stories(municipality):
                    self.stdout.write(f"{municipality}: {story}")
        # Once every municipality has its cases: a worker of the other one breaks the glass.
        municipalities = list(
            Municipality.objects.filter(
                code__in=[spec["code"] for spec in demo.MUNICIPALITIES]
            ).order_by("code")
        )
        for municipality, other in zip(
            municipalities, municipalities[1:] + municipalities[:1], strict=True
        ):
            visitor = other.staff.filter(
                role_assignments__role=Role.CHILD_PROTECTION_WORKER
            ).first()
            with transaction.atomic():
                events = seed_activity(municipality, visitor=visitor)
            if events:
                self.stdout.write(f"{municipality}: {events} audit events of a working day.")
        accounts_file = options["accounts_file"]
        accounts_file.parent.mkdir(parents=True, exist_ok=True)
        accounts_file.touch(mode=0o600)
        accounts_file.write_text(self._table(rows, waiting_url), encoding="utf-8")
        self.stdout.write(
            f"Accounts, password and backup codes: {accounts_file} "
            "(`manage.py demo_accounts` prints them)."
        )

    def _seed(self):
        rows = []
        for spec in demo.MUNICIPALITIES:
            municipality, _ = Municipality.objects.get_or_create(
                code=spec["code"], defaults={"name": spec["name"]}
            )
            for unit in spec["units"]:
                AdministrativeUnit.objects.get_or_create(municipality=municipality, name=unit)
            institutions = {}
            for kind, pattern in demo.INSTITUTIONS:
                institutions[kind], _ = Institution.objects.get_or_create(
                    municipality=municipality,
                    name=pattern.format(m=municipality.name),
                    defaults={"kind": kind},
                )
            names = demo.STAFF_NAMES[spec["slug"]]
            for (suffix, role, kind), (first, last) in zip(demo.STAFF, names, strict=True):
                user = self._account(
                    f"{spec['slug']}.{suffix}",
                    role,
                    first,
                    last,
                    municipality=municipality,
                    institution=institutions[kind] if kind else None,
                )
                rows.append((user, role))
            if spec["code"] == "DR":
                for username, role, first, last, requester in demo.SECOND_PERSON_STAFF:
                    user = self._account(
                        username,
                        role,
                        first,
                        last,
                        municipality=municipality,
                        requested_by=User.objects.filter(username=requester).first(),
                    )
                    rows.append((user, role))
        for username, role, first, last in demo.NATIONAL_STAFF:
            rows.append((self._account(username, role, first, last), role))
        return rows

    def _account(
        self,
        username,
        role,
        first,
        last,
        *,
        municipality=None,
        institution=None,
        requested_by=None,
    ):
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@demo.mbrojtje.invalid"
        # Seeding is the platform's own path: it vouches for the invented addresses
        # (but that of an account an administrator requested, which waits), and hands
        # out the demo password and backup codes itself, as nobody else may.
        if requested_by is None:
            user.email_confirmed_at = user.email_confirmed_at or timezone.now()
        user.municipality, user.institution = municipality, institution
        user.is_active = True
        user.set_password(demo.DEMO_PASSWORD)
        user.save()
        # The demo is seeded by the platform, the second person itself: roles are in
        # force at once, but for the one requested by an administrator, which waits
        # (left as a tester's approval or refusal made it on a second run).
        _assignment, requested = RoleAssignment.objects.get_or_create(
            user=user,
            role=role,
            defaults={
                "assigned_by": requested_by,
                "approved_at": None if requested_by else timezone.now(),
            },
        )
        if requested and requested_by is not None:
            notify(
                users=approvers_of(user).exclude(pk=requested_by.pk),
                kind=Notification.Kind.APPROVAL_WAITING,
                case_number="",
                target_url=reverse("accounts:manage_approvals"),
            )
        user.__dict__.pop("roles", None)
        role_groups_sync(user=user)
        # An authenticator with a key nobody knows: the demo signs in with a
        # backup code. An administrator's reset lets one try the enrolment.
        if not AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
            AuthenticatorDevice.create_for(user, confirmed=True)
        user.demo_backup_codes = backup_codes_replace(user=user)[:DEMO_CODES_SHOWN]
        return user

    def _awaiting_activation(self) -> str:
        """durres.pmf3 without password or second factor, and a fresh link for it: the
        link a new user would find in their e-mail."""
        username, role, first, last = demo.AWAITING_ACTIVATION
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@demo.mbrojtje.invalid"
        user.email_confirmed_at = user.email_confirmed_at or timezone.now()
        user.municipality = Municipality.objects.get(code="DR")
        user.is_active = True
        user.set_unusable_password()
        user.save()
        RoleAssignment.objects.get_or_create(
            user=user, role=role, defaults={"approved_at": timezone.now()}
        )
        user.__dict__.pop("roles", None)
        role_groups_sync(user=user)
        AuthenticatorDevice.objects.filter(user=user).delete()
        BackupCodeDevice.objects.filter(user=user).delete()
        _link, token = activation_link_issue(
            by=None, account=user, purpose=ActivationLink.Purpose.NEW_ACCOUNT
        )
        return activation_url(token)

    def _table(self, rows, waiting_url) -> str:
        """The accounts, their roles and backup codes, and the activation link, as text."""
        labels = dict(RoleAssignment._meta.get_field("role").choices)
        shown, count = DEMO_CODES_SHOWN, settings.MBROJTJE_BACKUP_CODE_COUNT
        lines = [
            f"Demo accounts. Password for all: {demo.DEMO_PASSWORD}",
            "",
            f"{'username':<22} {'backup codes (each works once)':<36} role",
            f"{'-' * 22} {'-' * 36} {'-' * 40}",
        ]
        for user, role in rows:
            codes = " ".join(user.demo_backup_codes)
            waiting = " (waiting for approval)" if role in user.pending_roles else ""
            lines.append(f"{user.username:<22} {codes:<36} {labels[role]}{waiting}")
        lines += [
            "",
            "Sign in with the username and the password, then type one of the account's codes "
            "as the second factor.",
            f"Each account has {count} backup codes; {shown} are shown here. Run seed_demo "
            "again for fresh ones.",
            "",
            f"{demo.AWAITING_ACTIVATION[0]} waits for activation. Open its link to choose a "
            "password and set up an authenticator app, as a new user does from the e-mail "
            "(it works once; run seed_demo again for a new one):",
            waiting_url,
            "",
            "Links the application sends (new accounts, resets) are e-mails; without a mail "
            "server they are files in var/mail/.",
        ]
        return "\n".join(lines) + "\n"
