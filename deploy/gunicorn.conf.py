"""gunicorn settings for Mutualise in production.

    gunicorn -c deploy/gunicorn.conf.py

Every worker is a separate process with its own database connections and nothing else: the
sessions are signed cookies, the login limits and lockouts live in the database, the secret key
comes from the environment. So workers can be added, and several machines can run this same
file behind one reverse proxy, against one PostgreSQL database (see README, "Production").

Settings come from the environment so that the file itself never changes between machines.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from typing import Any

#: The WSGI app: the factory, called once in each worker (never in the master: no engine or
#: connection is ever shared across a fork).
wsgi_app = "app:create_app()"

#: Loopback only: the reverse proxy is the one thing that listens on the network.
bind = os.environ.get("MUTUALISE_BIND", "127.0.0.1:8000")

#: sync workers: measured on this kind of machine, the same throughput as gthread with half the
#: p99, and stable (see shared PERFORMANCE.md). 2 per core plus one is gunicorn's advice.
#: A sync worker serves one request at a time through one session, so it holds one database
#: connection (SQLAlchemy's default pool of 5 per worker is never filled): PostgreSQL sees
#: about ``workers`` connections per machine, far below its default max_connections of 100.
worker_class = "sync"
workers = int(os.environ.get("MUTUALISE_WORKERS", multiprocessing.cpu_count() * 2 + 1))

#: Large Excel exports and imports take seconds; nothing legitimate takes two minutes.
timeout = int(os.environ.get("MUTUALISE_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5

#: Recycle workers now and then: memory stays bounded whatever a long-running process leaks.
#: Not too often: a new worker spends a second or two of CPU loading the app, which the
#: requests queued behind it wait for (every 2 000 requests was once a minute under load).
max_requests = 20000
max_requests_jitter = 2000

#: The proxy in front sets X-Forwarded-*; only trust it from the loopback. The app applies
#: Werkzeug's ProxyFix too (MUTUALISE_PROXY_HOPS=1), for the client address of the rate limits.
forwarded_allow_ips = os.environ.get("MUTUALISE_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

#: Refuse absurd request lines and headers early (uploads are limited by the app and the proxy).
limit_request_line = 8190
limit_request_fields = 100

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("MUTUALISE_LOG_LEVEL", "info")
#: No client IPs or query strings beyond what the proxy already logs.
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'

#: Production unless told otherwise: secure cookies, HSTS, and the checks of app.security.
raw_env = [f"MUTUALISE_ENV={os.environ.get('MUTUALISE_ENV', 'production')}"]


def post_worker_init(worker: Any) -> None:
    """Once the app is loaded in a worker, move everything alive (modules, SQLAlchemy
    mappers, compiled templates: hundreds of thousands of objects) out of the cycle
    collector's reach. Otherwise each full collection walks them all: 50 to 90 ms pauses, at
    random, in one request in a few hundred, which set the p99 of the load benchmark. Objects
    made by requests are collected as usual."""
    gc.collect()
    gc.freeze()
