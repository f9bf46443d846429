"""gunicorn settings for one portal app server.

Used by deploy/systemd/portal-web@.service (one instance per port) and by `make bench-scale`:

    gunicorn -c deploy/gunicorn.conf.py 'portal:create_app()'

Every value can be changed through the environment (the systemd unit reads
/etc/soziales-duo/portal.env), so this file stays as it is on every machine.
"""

from __future__ import annotations

import gc
import os
from typing import Any

from portal.logs import GUNICORN_LOGCONFIG
from portal.metrics import child_exit as portal_child_exit


def _int(name: str, default: int) -> int:
    """An integer from the environment, or ``default`` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where nginx reaches this app server: loopback only, never a public interface. The unit
# sets GUNICORN_BIND=127.0.0.1:<instance port>; a Unix socket works too ("unix:/run/...").
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# Two processes per core with a few threads each: requests wait on the database and on
# rendering, not on the network (nginx buffers slow clients), so threads are cheap.
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)

# A request that takes longer than this is stuck: its worker is killed and replaced.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On stop or reload (SIGTERM/SIGHUP) workers finish the requests they hold for this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
# nginx keeps connections to the app servers open (upstream keepalive); slightly longer here
# than nginx's own keepalive_timeout in the upstream block, so nginx always closes first.
keepalive = 75

# Only nginx on this machine may say who the client was (X-Forwarded-For/-Proto). The app
# itself trusts exactly PORTAL_PROXY_COUNT proxies (werkzeug's ProxyFix); this is gunicorn's
# own check of the same thing, for its wsgi.url_scheme.
forwarded_allow_ips = "127.0.0.1,::1"

# No access log: the app writes one JSON line per request itself, without personal data.
# gunicorn's own messages (start, stop, a worker killed on timeout) go to standard error,
# which systemd sends to the journal.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")

# Restart each worker after this many requests (with jitter, so they never restart together):
# a slow leak in a library cannot grow without bound. Rarely: a restart costs a second of CPU
# and empties the worker's page and search caches. At 5,000, a burst of 3,000 requests/s
# restarted each worker every few seconds and cut throughput to a third (scripts/bench_pages.py).
max_requests = _int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = max_requests // 10

# Create the app in each worker, after the fork: every worker gets its own database pool.
preload_app = False

proc_name = os.environ.get("GUNICORN_PROC_NAME", "soziales-duo-portal")

# gunicorn's own lines as the portal's JSON lines (one format in the journal).
logconfig_dict = GUNICORN_LOGCONFIG


def post_worker_init(_worker: Any) -> None:
    """Once the app is loaded in a worker, move everything alive into the garbage collector's
    permanent generation: a full collection then no longer walks the 170,000 objects of the
    loaded modules and the app (100 ms on a 2-core machine, paid by whichever request was
    running). Objects made by requests are collected as always."""
    gc.collect()
    gc.freeze()


# A worker that ended leaves its Prometheus files behind; this marks them (multiprocess mode,
# PROMETHEUS_MULTIPROC_DIR; nothing to do without it).
child_exit = portal_child_exit
