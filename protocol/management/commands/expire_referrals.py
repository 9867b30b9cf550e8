from django.core.management.base import BaseCommand

from protocol.services.referrals import referrals_expire


class Command(BaseCommand):
    help = (
        "Mark referrals past their expiry as expired and remove the access they gave. "
        "Access already ends at the expiry time whether or not this has run; run it "
        "periodically (deploy/systemd runs it hourly) to keep the "
        "permission tables and the institutions' inboxes tidy."
    )

    def handle(self, *args, **options):
        expired = referrals_expire()
        self.stdout.write(f"{expired} referral(s) expired.")
