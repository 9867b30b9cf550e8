from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.notifications import Kind, already_notified, notify
from dv_cases.models import GRANTED_OUTCOMES
from dv_cases.selectors import orders_expiring_soon
from protocol.models import CaseKind


class Command(BaseCommand):
    help = (
        "Remind the worker in charge of each open DV case of every protection order in "
        "force that expires within the municipality's warning window (the deadline "
        "setting of the order expiry warning): a notification in Mbrojtje and an e-mail "
        "without details. Each order is reminded at most once a day, so the command can "
        "run as often as wanted; run it daily, e.g. from a systemd timer "
        "(OnCalendar=*-*-* 07:00) or cron ('0 7 * * *'), as the same user and "
        "environment as the web application."
    )

    def handle(self, *args, **options):
        today = timezone.localdate()
        # Those who may have an order to be reminded of; orders_expiring_soon decides.
        owners = User.objects.filter(
            is_active=True,
            owned_cases__kind=CaseKind.DV,
            owned_cases__protection_orders__outcome__in=GRANTED_OUTCOMES,
            owned_cases__protection_orders__expires_on__gte=today,
        )
        sent = 0
        for owner in owners.distinct():
            # Through the owner's own selector: an order is reminded only to someone
            # who may read the case's orders.
            for order in orders_expiring_soon(owner, today=today):
                if order.case.owner_id != owner.pk:
                    continue
                target_url = f"{order.case.get_absolute_url()}#order-{order.pk}"
                with transaction.atomic():
                    if already_notified(
                        user=owner,
                        kind=Kind.ORDER_EXPIRING,
                        case_number=order.case.number,
                        target_url=target_url,
                    ):
                        continue
                    sent += len(
                        notify(
                            users=[owner],
                            kind=Kind.ORDER_EXPIRING,
                            case_number=order.case.number,
                            target_url=target_url,
                        )
                    )
        self.stdout.write(f"{sent} protection-order reminder(s) sent.")
