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


def post_fork(server, worker):  # gunicorn calls the hook with these two arguments
    """Give large allocations back to the system as soon as they are freed.

    Each password check allocates Argon2's 19 MiB. glibc raises its mmap threshold after such a block is freed,
    so later ones come from per-thread arenas and stay resident: four threads would keep ~80 MiB. A fixed
    threshold keeps the worker near its baseline.
    """
    import ctypes
    import ctypes.util

    libc_name = ctypes.util.find_library("c")
    if libc_name:
        libc = ctypes.CDLL(libc_name)
        m_mmap_threshold, m_arena_max = -3, -8
        libc.mallopt(m_mmap_threshold, 128 * 1024)
        libc.mallopt(m_arena_max, 2)
