"""Second-factor codes for the virtual users, never one that the server would refuse.

The server accepts each authenticator code once (accounts.models.
AuthenticatorDevice.verify_token) and counts a refused code towards the
lock-out, so when several virtual users sign in to one account (a small
database has few accounts) the first in a time step types the authenticator
code and the next ones type a backup code; only when those run out does a user
wait for the next time step. One account signs in one virtual user at a time,
so that its codes reach the server in the order of their time steps.

One locust process keeps this bookkeeping: do not run the load test with
several locust processes.
"""

import time
from binascii import unhexlify

import gevent
from django_otp.oath import hotp
from gevent.lock import BoundedSemaphore

# A code is typed this long after its time step starts, so that it is not late.
STEP_MARGIN_SECONDS = 0.5


class SecondFactors:
    def __init__(self, accounts: list[dict]):
        self._accounts = {account["username"]: account for account in accounts}
        self._backup_codes = {
            account["username"]: list(account.get("backup_codes", [])) for account in accounts
        }
        self._last_step: dict[str, int] = {}
        self._locks = {account["username"]: BoundedSemaphore() for account in accounts}

    def signing_in(self, username: str) -> BoundedSemaphore:
        """Hold while `username` signs in: one virtual user of an account at a time."""
        return self._locks[username]

    def code(self, username: str) -> tuple[str, str]:
        """A code the server will accept now, and what it is ("authenticator" or "backup");
        waits for the next time step when the account has no unused code left."""
        totp = self._accounts[username]["totp"]
        step_seconds = totp["step"]
        step = int((time.time() - totp["t0"]) // step_seconds)
        last = self._last_step.get(username, -1)
        if step <= last:
            if self._backup_codes[username]:
                return self._backup_codes[username].pop(), "backup"
            step = last + 1
            starts_at = totp["t0"] + step * step_seconds + STEP_MARGIN_SECONDS
            gevent.sleep(max(0.0, starts_at - time.time()))
        self._last_step[username] = step
        token = hotp(unhexlify(totp["key_hex"]), step, digits=totp["digits"])
        return f"{token:0{totp['digits']}d}", "authenticator"
