"""Gunicorn settings for the loaxa web application behind nginx (see docs/operations.md).

Installed as /etc/loaxa/gunicorn.conf.py and started by deploy/systemd/loaxa-web.service:
    gunicorn -c /etc/loaxa/gunicorn.conf.py
Every value can be changed from the environment file without editing this one.
"""

import os

# The application factory: each worker builds its own app, engine and connection pool.
wsgi_app = "web.app:create_app()"
preload_app = False  # no database connection may be shared across fork()

bind = os.environ.get("LOAXA_GUNICORN_BIND", "127.0.0.1:8080").split(",")
workers = int(os.environ.get("LOAXA_GUNICORN_WORKERS", str(min(2 * (os.cpu_count() or 1) + 1, 8))))
# Threads let one worker wait on a slow 3G upload while answering the other stations.
worker_class = "gthread"
threads = int(os.environ.get("LOAXA_GUNICORN_THREADS", "4"))

# Recordings up to 200 MB arrive over slow links; nginx buffers them, so this covers processing only.
timeout = int(os.environ.get("LOAXA_GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5  # nginx closes its idle connections first (keepalive_timeout 4s in deploy/nginx/loaxa.conf)
# Recycle workers now and then, so a slow leak in a library never grows without bound; not often: a new
# worker costs about 1 s of CPU to start (imports, app, connection pool) and starts with cold caches
# (compiled SQL, manifest bodies). 10,000 stations reporting their status once a minute alone send 167
# requests a second: at the former 2,000 each of 5 workers was replaced every minute, and about every
# 2,000 requests during the 10,000-station benchmark (docs/benchmarks.md, Delivery).
max_requests = int(os.environ.get("LOAXA_GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10

# nginx on the same machine sets X-Forwarded-Proto; trust it from there only.
forwarded_allow_ips = os.environ.get("LOAXA_GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = os.environ.get("LOAXA_GUNICORN_ACCESSLOG", "-")
errorlog = os.environ.get("LOAXA_GUNICORN_ERRORLOG", "-")
loglevel = os.environ.get("LOAXA_GUNICORN_LOGLEVEL", "info")
# %(B)s is the body size gunicorn sent: 0 for audio that nginx sent through X-Accel-Redirect.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus "%(a)s"'
proc_name = "loaxa-web"
