"""gunicorn's configuration hooks for the web service (`gunicorn -c python:shopyard.operations.gunicorn_hooks`,
deploy/systemd/shopyard-web.service).

Several gunicorn workers each keep their own Prometheus values; a scrape reaches one of
them, so without more it reads one worker's counters, a different one each time (they
jump up and down, and `rate()` reads every drop as a restart). With
`PROMETHEUS_MULTIPROC_DIR` set, prometheus-client writes each process's values to a file
there and the metrics page adds them up (django-prometheus's view does that when the
variable is set). A worker that ends leaves its counters there, so the sums never go
back; only its gauges of the "live" kinds must go, which is what `child_exit` does.

Nothing here imports Django: gunicorn's master loads this module before any worker
exists.
"""

import os


def child_exit(server, worker):
    """gunicorn calls this in the master when a worker has ended (killed, timed out,
    recycled or stopped)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
