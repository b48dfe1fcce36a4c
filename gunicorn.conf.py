"""gunicorn settings for production; each can be overridden by the usual GUNICORN_CMD_ARGS or flags."""

import os
import shutil
import tempfile
from pathlib import Path

# Prometheus multiprocess mode: every worker writes its counters to files here and a scrape of any worker adds
# them up. It must be set before a worker imports prometheus_client, so it is set here, when gunicorn reads this.
_made_metrics_directory = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_metrics_directory:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="idp-metrics-")
metrics_directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])

bind = os.environ.get("IDP_BIND", "0.0.0.0:8080")
workers = int(os.environ.get("IDP_WORKERS", "2"))
# Each thread runs its own event loop and answers the requests it reads (idp/web/worker.py): while one waits on
# PostgreSQL, Redis or an RP's JWKS, the others go on. "gthread" is gunicorn's own threaded worker.
worker_class = os.environ.get("IDP_WORKER_CLASS", "idp.web.worker.EventLoopWorker")
threads = int(os.environ.get("IDP_THREADS", "4"))
keepalive = 5
timeout = 30
graceful_timeout = 30
# No access log of gunicorn's: the app logs one JSON line per request, without query strings or secrets.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("IDP_LOG_LEVEL", "info").lower()
# gunicorn's own lines (booting, worker timeouts) as JSON too, through the app's formatter and redacting filter.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "idp.logs.JsonFormatter"}},
    "filters": {"redact_secrets": {"()": "idp.logs.RedactSecrets"}},
    "handlers": {"stderr": {"class": "idp.logs.StderrHandler", "formatter": "json", "filters": ["redact_secrets"]}},
    "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}
wsgi_app = "idp:create_app()"
# gunicorn 27's control socket defaults to one path per user ($HOME/.gunicorn): several servers on one machine
# would fight over it, and nothing here uses it.
control_socket_disable = True


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


def on_starting(server):
    """Counters left by an earlier run would be added to this run's: start from an empty directory."""
    metrics_directory.mkdir(parents=True, exist_ok=True)
    for stale in metrics_directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """A worker that exits keeps its counters (they are totals) but its live gauges must go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(metrics_directory))


def on_exit(server):
    if _made_metrics_directory:
        shutil.rmtree(metrics_directory, ignore_errors=True)
