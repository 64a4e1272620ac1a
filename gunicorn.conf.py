"""gunicorn settings of the Procfile's web process (gunicorn also reads this file by
itself when started from the repository's folder).

- Binds ``$PORT`` with ``$WEB_CONCURRENCY`` workers of ``$WEB_THREADS`` threads (gthread)
  and a 120 s timeout, long enough for a first fetch of a large list from MyAnimeList
  (``MAL_SYNC_REQUEST_WAIT_SECONDS`` stays under it).
- Each worker builds its similarity index as soon as it starts, in a background thread,
  so that no client request pays for it and ``/health/ready`` says "not ready" meanwhile.
- The workers' Prometheus samples are added up through ``PROMETHEUS_MULTIPROC_DIR``; when
  the environment does not name one, a private temporary folder is used.
- Requests are logged by the application (``reko.requests``), not by gunicorn's access log.
"""
import os
import shutil
import tempfile
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads, so that a request waiting for MyAnimeList holds one thread, not a whole worker.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = 120

# Read by prometheus_client when a worker imports it, so it must be set before the fork.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="reko-metrics-")
    os.environ["REKO_OWNS_METRICS_DIR"] = "1"


def on_starting(server):
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    # Samples of a previous run would be added to this one's.
    for stale in folder.glob("*.db"):
        stale.unlink()


def post_worker_init(worker):
    from recommendations import live_index

    live_index.build_in_background()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get("REKO_OWNS_METRICS_DIR"):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
