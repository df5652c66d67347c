"""Shared plumbing for the benchmarks: a throw-away Shopyard home and database,
gunicorn serving it, and wrk (Debian's package) loading it from another
process on loopback. Every benchmark prints its figures on one line."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(PY).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def environment(db: str):
    """A fresh SHOPYARD_HOME and database; removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="shopyard-bench-"))
    env = dict(os.environ, SHOPYARD_HOME=str(home), DJANGO_SETTINGS_MODULE="shopyard.settings",
               # this checkout's code, whichever checkout the virtualenv was installed from: an A/B
               # run from a second worktree with one editable install measured the first one twice
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
               SHOPYARD_DEBUG="0", SHOPYARD_LOG_LEVEL="WARNING",
               # development secrets are fine here; a bench client places far more unpaid orders than a shopper
               SHOPYARD_DEMO="1", SHOPYARD_MAX_UNPAID_ORDERS="1000000000")
    env.pop("BROKER_URL", None)
    dbname = None
    if db == "postgres":
        # BENCH_DB_PREFIX: on a shared server, a name within the runner's own databases
        dbname = f"{os.environ.get('BENCH_DB_PREFIX', 'shopyard_bench')}_{uuid.uuid4().hex[:8]}"
        # BENCH_PG_PORT: another server on this machine, e.g. one started with pg_stat_statements
        port = os.environ.get("BENCH_PG_PORT", "5432")
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", dbname], check=True)
        env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{port}/{dbname}"
    else:
        env.pop("DATABASE_URL", None)
    try:
        yield env
    finally:
        if dbname:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "--if-exists", "--force", dbname],
                           check=False)
        shutil.rmtree(home, ignore_errors=True)


def analyze(env):
    """PostgreSQL's planner statistics for what was just loaded, as a running server has them
    (autovacuum keeps them): without them a freshly loaded 100,000-product catalogue read a
    product's SKUs and attributes by plans of 12 ms each. Nothing to do on SQLite."""
    if "DATABASE_URL" in env:
        subprocess.run(["psql", env["DATABASE_URL"], "-qc", "ANALYZE"], check=True)


def manage(env, *args, quiet=True):
    out = subprocess.run([PY, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True,
                         capture_output=quiet, text=True)
    return out.stdout if quiet else ""


@contextmanager
def gunicorn(env, *, workers=2, threads=1, port=None, extra=(), probe="/robots.txt", app="shopyard.wsgi"):
    # the readiness probe is a cheap page: the OpenAPI document takes seconds to build on a loaded machine
    port = port or free_port()
    cmd = [str(BIN / "gunicorn"), app, "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--log-level", "warning"]
    # no access log, as deployed (deploy/systemd/shopyard-web.service: the app logs its requests);
    # "/dev/null" here still made gunicorn format a line per request
    if os.environ.get("BENCH_ACCESS_LOG"):
        cmd += ["--access-logfile", "-"]
    if threads > 1:
        cmd += ["-k", "gthread", "--threads", str(threads)]
    cmd += list(extra)  # e.g. ["--pid", path], for a benchmark that watches the workers
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + probe, timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not come up")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # still finishing queued requests on a loaded machine
            proc.kill()
            proc.wait(timeout=20)


REPORT_LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("JSON{\\"requests\\":%d,\\"duration_us\\":%d,\\"non2xx\\":%d,\\"errors\\":%d,\\"p50\\":%d,\\"p95\\":%d,\\"p99\\":%d}\\n",
    summary.requests, summary.duration, summary.errors.status, errors,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def wrk(url, *, seconds=10, connections=16, threads=2, script_body=""):
    """Run wrk; returns req/s, latency percentiles in ms, and error counts."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script_body + REPORT_LUA)
        script = fh.name
    try:
        out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", script, url],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    line = next(ln for ln in out.splitlines() if ln.startswith("JSON{"))
    data = json.loads(line[4:])
    secs = data["duration_us"] / 1e6
    return {
        "rps": round(data["requests"] / secs, 1), "p50_ms": round(data["p50"] / 1000, 1),
        "p95_ms": round(data["p95"] / 1000, 1), "p99_ms": round(data["p99"] / 1000, 1),
        "non2xx": data["non2xx"], "errors": data["errors"], "requests": data["requests"],
    }


def server_cpu_seconds():
    """CPU seconds the PostgreSQL backend serving this process's default connection has
    used so far (None on SQLite, whose work is the process's own, or when the server is
    not on this machine): with it an in-process benchmark counts the database's share of
    a request too, which is what grows with the catalogue."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def cpu_per_request(items, call) -> dict:
    """`call(item)` for each of `items`, in this process: the CPU (time.process_time),
    wall time and statements per call, and on PostgreSQL the server's own CPU per call
    (server_cpu_seconds), as the in-process benchmarks print them."""
    from django.db import connection

    statements = [0]

    def count(execute, sql, params, many, context):  # a call per statement: cheap beside the request
        statements[0] += 1
        return execute(sql, params, many, context)

    server = server_cpu_seconds()
    cpu, wall = time.process_time(), time.perf_counter()
    with connection.execute_wrapper(count):
        for item in items:
            call(item)
    n = len(items)
    out = {"cpu_ms": round((time.process_time() - cpu) * 1000 / n, 3),
           "wall_ms": round((time.perf_counter() - wall) * 1000 / n, 3),
           "queries": round(statements[0] / n, 2)}
    if server is not None:  # PostgreSQL's own CPU for these requests (not in cpu_ms)
        out["db_cpu_ms"] = round((server_cpu_seconds() - server) * 1000 / n, 3)
    return out
