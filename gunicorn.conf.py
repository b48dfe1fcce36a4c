"""gunicorn settings for production; each can be overridden by the usual GUNICORN_CMD_ARGS or flags."""

import os

bind = os.environ.get("IDP_BIND", "0.0.0.0:8080")
workers = int(os.environ.get("IDP_WORKERS", "2"))
# Threads give keep-alive connections and let a worker wait on PostgreSQL, Redis or an RP's JWKS without
# stalling the others.
worker_class = "gthread"
threads = int(os.environ.get("IDP_THREADS", "4"))
keepalive = 5
timeout = 30
graceful_timeout = 30
# No access log: request logging goes through the app's own structured logs, without secrets.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("IDP_LOG_LEVEL", "info").lower()
wsgi_app = "idp:create_app()"
