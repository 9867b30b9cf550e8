from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Municipality
from accounts.notifications import mail_destination
from accounts.roles import Role

ROLES = [Role.MUNICIPAL_ADMINISTRATOR, Role.NATIONAL_STATISTICIAN]


class Command(BaseCommand):
    help = (
        "Create the accounts that no one in the application can create: the first municipal "
        "administrator of a municipality, and national statisticians. The address given here "
        "counts as confirmed by the national IT unit: a single-use activation link goes to "
        "it, with which the person chooses a password and sets up an authenticator app. "
        "Nobody else ever sees the password. Every other account is created by the "
        "municipal administrator in the application."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[role.value for role in ROLES])
        parser.add_argument("--municipality", help="code of the municipality, e.g. DR")
        parser.add_argument("--first-name", required=True)
        parser.add_argument("--last-name", required=True)
        parser.add_argument("--email", required=True)

    def handle(self, *args, **options):
        municipality = None
        if options["municipality"]:
            municipality = Municipality.objects.filter(code=options["municipality"]).first()
            if municipality is None:
                raise CommandError(f"No municipality has the code {options['municipality']!r}.")
        try:
            new = services.account_create_by_platform(
                username=options["username"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                email=options["email"],
                role=options["role"],
                municipality=municipality,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"Created {new.user.username}.")
        self.stdout.write(f"Activation link sent to {new.activation_link.sent_to}.")
        if settings.DEBUG:
            self.stdout.write(f"Debug: the e-mail went to {mail_destination()}.")
