"""Growing delays after failed sign-ins, kept in the database that every server shares.

Two keys count each failure (a wrong password at sign-in, on the confirmation
page or the password-change page; a wrong second-factor code):

- the account *as typed* together with the client: after
  MBROJTJE_SIGN_IN_FREE_TRIES failures the next try waits 1 s, then 2 s, 4 s …
  up to MBROJTJE_SIGN_IN_MAX_DELAY_MINUTES. Failures from an attacker's
  address never delay the owner signing in from another one;
- the client alone, across accounts (password spraying), with the higher
  allowance MBROJTJE_SIGN_IN_CLIENT_FREE_TRIES.

The account is not looked up: a name that does not exist is counted and
delayed exactly as one that does, so the delays tell nobody which names exist.
Each key forgives one failure every MBROJTJE_SIGN_IN_FORGIVE_MINUTES, and a key
quiet for a day is forgotten, so an office behind one address is not delayed
by a week of ordinary typing mistakes. Only a completed sign-in (both factors)
clears a key, and only its own (account, client) key: a password holder cannot
wipe the count of wrong codes, nor a user with an account of their own the count
of their client.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.context import current_actor
from encryption.blind_index import blind_index

from .models import SignInThrottle

ACCOUNT_PURPOSE = "sign-in-throttle-account"
CLIENT_PURPOSE = "sign-in-throttle-client"
# A key without a failure for this long is deleted.
FORGET_AFTER = timedelta(days=1)
# 2**20 seconds is far above any sensible maximum; the cap keeps the power small.
_LONGEST_DOUBLING = 20


@dataclass(frozen=True)
class Keys:
    account: str
    client: str


def client_network(address: str) -> str:
    """The client as the throttle sees it: an IPv4 address, or the /64 of an IPv6 one
    (a single connection is usually given a whole /64 to choose from)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def account_key(username: str) -> str:
    return blind_index(username, purpose=ACCOUNT_PURPOSE)


def keys_for(username: str) -> Keys:
    """The keys of an attempt on `username` (as typed) from the current request's client."""
    return Keys(
        account=account_key(username),
        client=blind_index(client_network(current_actor().ip_address), purpose=CLIENT_PURPOSE),
    )


def delay_after(failures: int, free_tries: int) -> timedelta:
    """The wait after `failures` failures under a key that allows `free_tries`."""
    if failures < free_tries:
        return timedelta(0)
    seconds = 2 ** min(failures - free_tries, _LONGEST_DOUBLING)
    longest = timedelta(minutes=settings.MBROJTJE_SIGN_IN_MAX_DELAY_MINUTES)
    return min(timedelta(seconds=seconds), longest)


@dataclass(frozen=True)
class Charge:
    seconds_to_wait: int
    delays_started: tuple[str, ...] = ()


def charge(keys: Keys) -> Charge:
    """Count the attempt as a failure before its password or code is checked.

    Refuses (`seconds_to_wait` > 0, nothing counted) while either key waits.
    Counting first, under the rows' locks, is what stops a burst of parallel
    tries from all passing the check before any of them is counted; the
    caller gives the try back with refund() or success() when it was right.
    `delays_started` names the keys ("account", "client") whose free tries
    this attempt uses up, should it fail.
    """
    now = timezone.now()
    with transaction.atomic():
        rows = [
            (scope, _locked_row(account, keys.client, now), free_tries)
            for scope, account, free_tries in (
                ("account", keys.account, settings.MBROJTJE_SIGN_IN_FREE_TRIES),
                ("client", "", settings.MBROJTJE_SIGN_IN_CLIENT_FREE_TRIES),
            )
        ]
        waits = [row.blocked_until - now for _scope, row, _free in rows if _waiting(row, now)]
        if waits:
            return Charge(seconds_to_wait=max(1, int(max(waits).total_seconds() + 0.999)))
        started = []
        for scope, row, free_tries in rows:
            _forgive(row, now)
            row.failures += 1
            delay = delay_after(row.failures, free_tries)
            row.blocked_until = now + delay if delay else None
            row.save()
            if row.failures == free_tries:
                started.append(scope)
        SignInThrottle.objects.filter(counted_at__lt=now - FORGET_AFTER).delete()
    return Charge(seconds_to_wait=0, delays_started=tuple(started))


def _locked_row(account: str, client: str, now: datetime) -> SignInThrottle:
    # Locked and read again: two tries at once, on two servers, must both count.
    # Another attempt's clean-up (or an administrator's unlock) may delete the
    # row in between: then it is made anew.
    for _try in range(3):
        SignInThrottle.objects.get_or_create(
            account=account, client=client, defaults={"counted_at": now}
        )
        row = SignInThrottle.objects.select_for_update().filter(account=account, client=client)
        if (found := row.first()) is not None:
            return found
    raise SignInThrottle.DoesNotExist("A sign-in throttle row kept disappearing.")


def _waiting(row: SignInThrottle, now: datetime) -> bool:
    return row.blocked_until is not None and row.blocked_until > now


def _forgive(row: SignInThrottle, now: datetime) -> None:
    """One failure forgiven for every MBROJTJE_SIGN_IN_FORGIVE_MINUTES on the row's clock.

    The clock keeps the part of an interval already run: an office whose right
    sign-ins come every few minutes must still see its old typing mistakes
    forgiven.
    """
    every = timedelta(minutes=settings.MBROJTJE_SIGN_IN_FORGIVE_MINUTES)
    intervals = (now - row.counted_at) // every
    row.failures = max(0, row.failures - intervals)
    row.counted_at = now if row.failures == 0 else row.counted_at + intervals * every


def refund(keys: Keys, *, accounts: bool = True) -> None:
    """Give back a charged attempt whose password or code was right.

    The keys were not waiting when it was charged, so they are not afterwards.
    """
    with transaction.atomic():
        for row in SignInThrottle.objects.select_for_update().filter(
            client=keys.client, account__in=[keys.account, ""] if accounts else [""]
        ):
            row.failures = max(0, row.failures - 1)
            row.blocked_until = None
            row.save()


def success(keys: Keys) -> None:
    """A completed sign-in: the attempt is given back, and its own (account, client) key
    is cleared. No other client's key is touched, nor the client-wide one."""
    refund(keys, accounts=False)
    SignInThrottle.objects.filter(account=keys.account, client=keys.client).delete()


def account_clear(username: str) -> int:
    """Forget the failures on `username` from every client; returns the keys cleared."""
    deleted, _by_model = SignInThrottle.objects.filter(account=account_key(username)).delete()
    return deleted


def account_delayed(username: str) -> bool:
    """Some client must wait before trying `username` again."""
    return SignInThrottle.objects.filter(
        account=account_key(username), blocked_until__gt=timezone.now()
    ).exists()


def delayed_accounts(usernames) -> set[str]:
    """Which of `usernames` some client must wait before trying again ("locked"), in one
    query: the keys are blind indexes, so each name's key is computed here."""
    keys = {account_key(username): username for username in usernames}
    delayed = SignInThrottle.objects.filter(
        account__in=list(keys), blocked_until__gt=timezone.now()
    ).values_list("account", flat=True)
    return {keys[key] for key in delayed}
