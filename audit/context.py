"""Who is acting and from where, for the events written during one request.

Services deep below a view (a history signal, an access grant) record events
without being handed the request; the middleware keeps the request here for
its length, and `acting()` names the actor of work done outside a request
(a management command, a periodic job).
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    institution_id: int | None = None
    municipality_id: int | None = None
    ip_address: str = ""

    @classmethod
    def of(cls, user, ip_address: str = "") -> "Actor":
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(ip_address=ip_address)
        return cls(
            user_id=user.pk,
            institution_id=getattr(user, "institution_id", None),
            municipality_id=getattr(user, "municipality_id", None),
            ip_address=ip_address,
        )


_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)
_request: ContextVar[object | None] = ContextVar("audit_request", default=None)


def client_ip(request) -> str:
    # Behind the reverse proxy REMOTE_ADDR is the proxy itself; the address it
    # appends to X-Forwarded-For is trusted only when settings say it is there.
    if getattr(settings, "MBROJTJE_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:45]
    return request.META.get("REMOTE_ADDR", "")[:45]


def current_actor() -> Actor:
    actor = _actor.get()
    if actor is not None:
        return actor
    request = _request.get()
    if request is None:
        return Actor()
    # request.user is read per event: sign-in and sign-out change it mid-request.
    return Actor.of(getattr(request, "user", None), client_ip(request))


def as_user(user) -> Actor:
    """`user` as the actor, from the current request's address: for events about a user who
    is not (or not yet, or no longer) the request's signed-in user."""
    return Actor.of(user, current_actor().ip_address)


@contextmanager
def acting(actor: Actor):
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


@contextmanager
def during(request):
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)
