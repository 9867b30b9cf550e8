"""Gunicorn settings of Mbrojtje in production (docs/deployment.md).

deploy/systemd/mbrojtje.service starts gunicorn with this file; the listening
socket then comes from deploy/systemd/mbrojtje.socket (a unix socket only
nginx may open) and `bind` below is ignored. Started by hand, gunicorn binds
to `bind`, or to what `--bind` says.

Logs go to standard output and error, hence to the journal. The access log
names the method and the path, never the query string (a name search is
`GET /cases/?q=...`) nor the Referer header (which carries the previous
page's query string): nginx's log, deploy/nginx/mbrojtje.conf, leaves out
the same.
"""

import os

wsgi_app = "config.wsgi:application"
bind = ["127.0.0.1:8000"]

# Sync workers: nginx buffers whole requests and responses, so a slow client
# never holds a worker. Two per core plus one, unless WEB_CONCURRENCY says
# otherwise. Each worker keeps one PostgreSQL connection open
# (DATABASE_CONN_MAX_AGE): servers x workers must stay below max_connections.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * len(os.sched_getaffinity(0)) + 1)
worker_class = "sync"

# The slowest pages are the yearly report and the exports (at most 100,000
# audit rows); nginx waits a little longer (proxy_read_timeout 130s).
timeout = 120
graceful_timeout = 30
# Sync workers close each connection after its response; nginx opens a new one.
keepalive = 2
# A fresh worker now and then, so that a slow leak can never grow for weeks.
max_requests = 1000
max_requests_jitter = 100

# No control socket: it would be made in the service account's home, which
# does not exist, and nothing here uses gunicornc.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = "info"
# Method, path without query string, status, bytes, milliseconds, and the
# request id nginx also logs, to match the two logs.
access_log_format = "%(m)s %(U)s %(s)s %(B)s %(M)sms rid=%({x-request-id}i)s"
