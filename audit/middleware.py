from .context import during


class AuditContextMiddleware:
    """Makes the signed-in user and the client's address the actor of every event."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with during(request):
            return self.get_response(request)
