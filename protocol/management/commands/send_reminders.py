from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.notifications import Kind, already_notified, notify
from protocol.models import Case, Stage

DUE_WITHIN = timedelta(hours=24)


class Command(BaseCommand):
    help = (
        "Remind the worker in charge of each open case whose next deadline falls within "
        "the next 24 hours, or has passed: a notification in Mbrojtje and an e-mail "
        "without details. Each worker is reminded of a case at most once a day, so the "
        "command can run as often as wanted; run it at least daily (deploy/systemd runs "
        "it every morning), as the same user and environment as the web application. "
        "Protection orders about to "
        "expire are reminded by send_order_reminders."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        cases = (
            Case.objects.exclude(stage=Stage.CLOSED)
            .filter(next_due_at__isnull=False, next_due_at__lte=now + DUE_WITHIN)
            .select_related("owner")
            .order_by("next_due_at")
        )
        sent = 0
        for case in cases:
            kind = Kind.DEADLINE_OVERDUE if case.next_due_at < now else Kind.DEADLINE_DUE
            with transaction.atomic():
                if already_notified(user=case.owner, kind=kind, case_number=case.number):
                    continue
                sent += len(
                    notify(
                        users=[case.owner],
                        kind=kind,
                        case_number=case.number,
                        target_url=case.get_absolute_url(),
                    )
                )
        self.stdout.write(f"{sent} deadline reminder(s) sent.")
