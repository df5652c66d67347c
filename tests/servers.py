"""Real servers for the scale-out tests (tests/test_read_replicas.py,
tests/test_app_servers.py): a PostgreSQL primary with a streaming standby,
owned by the test in a temporary folder, and gunicorn instances of Shopyard.

Both are started from the binaries on the machine and stopped afterwards;
`missing_pg()` names what is not there, so the tests skip with that reason."""

import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("SHOPYARD_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_cache_or_skip(cls, url: str, prefix: str):
    """A cache of class `cls` on the Redis at `url` under `prefix`; the test skips when that
    Redis is unreachable (only then: any other failure fails it)."""
    import pytest

    redis_cache = cls(url, {"KEY_PREFIX": prefix, "OPTIONS": {"socket_connect_timeout": 2}})
    try:
        redis_cache._cache.get_client(write=True).ping()
    except Exception as exc:
        pytest.skip(f"Redis at {url} is unreachable ({exc.__class__.__name__}: {exc})")
    return redis_cache


def _as_postgres() -> list[str]:
    """initdb and the server refuse to run as root: run them as the `postgres` OS user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def missing_pg(*, servers=True) -> str:
    """Why a primary and standby (or, with servers=False, only a database copy) cannot be made
    here ("" when they can)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return "needs PostgreSQL (DATABASE_URL): runs in CI's PostgreSQL stage"
    for name in ("initdb", "pg_ctl", "pg_basebackup", "pg_dump", "psql")[0 if servers else 3:]:
        if not (PG_BIN / name).exists():
            return f"PostgreSQL binaries not found in {PG_BIN} ({name}); set SHOPYARD_TEST_PG_BIN"
    if servers and os.geteuid() == 0:
        if not shutil.which("runuser"):
            return "running as root without runuser: initdb cannot run"
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` OS user to run initdb as"
    return ""


class PgServer:
    """One PostgreSQL server in a folder of its own, listening on 127.0.0.1 only."""

    def __init__(self, datadir: Path | None, port: int, *, host="127.0.0.1", user="postgres", password=""):
        self.datadir, self.port, self.host, self.user, self.password = datadir, port, host, user, password
        self.log = datadir.parent / f"{datadir.name}.log" if datadir else None

    @classmethod
    def of_test_database(cls):
        """The server this test session's database is on (DATABASE_URL), and that database's name."""
        from django.db import connection

        d = connection.settings_dict
        server = cls(None, int(d.get("PORT") or 5432), host=d.get("HOST") or "127.0.0.1",
                     user=d.get("USER") or "postgres", password=d.get("PASSWORD") or "")
        return server, d["NAME"]

    def url(self, db: str) -> str:
        auth = quote(self.user, safe="") + (":" + quote(self.password, safe="") if self.password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(db, safe='')}"

    def start(self):
        _run([*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.log), "-w",
              "-t", "30", "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir}", "start"])

    def stop(self):
        subprocess.run([*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate",
                        "-w", "-t", "30", "stop"], capture_output=True, check=False)

    def sql(self, query: str, db: str = "postgres") -> str:
        """Run one statement with psql; its rows as text (fields separated by |)."""
        return _run([str(PG_BIN / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.url(db),
                     "-c", query]).strip()

    def try_sql(self, query: str, db: str = "postgres") -> subprocess.CompletedProcess:
        return subprocess.run([str(PG_BIN / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.url(db),
                               "-c", query], capture_output=True, text=True, check=False)


def _run(cmd, **kw) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    if done.returncode:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextmanager
def primary_and_standby():
    """A primary and a standby streaming from it (pg_basebackup -R), each on a free
    port, in a temporary folder owned by `postgres`; both stopped and removed afterwards."""
    # in memory when the machine has /dev/shm: two clusters write and delete tens of megabytes
    shm = Path("/dev/shm")
    top = Path(tempfile.mkdtemp(prefix="shopyard-replica-", dir=shm if os.access(shm, os.W_OK) else None))
    os.chmod(top, 0o755)
    if os.geteuid() == 0:
        shutil.chown(top, "postgres", "postgres")
    primary = PgServer(top / "primary", free_port())
    standby = PgServer(top / "standby", free_port())
    started = []
    try:
        # trust on 127.0.0.1 (the folder and port are the test's own), replication included
        _run([*_as_postgres(), str(PG_BIN / "initdb"), "-D", str(primary.datadir), "-U", "postgres",
              "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--wal-segsize=1"])
        with open(primary.datadir / "postgresql.conf", "a") as conf:
            conf.write("\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                       "wal_level = replica\nmax_wal_senders = 4\nshared_buffers = 16MB\n"
                       "min_wal_size = 4MB\nmax_wal_size = 64MB\n")
        primary.start()
        started.append(primary)
        yield primary, standby, started
    finally:
        for server in reversed(started):
            server.stop()
        shutil.rmtree(top, ignore_errors=True)


def start_standby(primary: PgServer, standby: PgServer, started: list):
    """pg_basebackup -R of `primary` into the standby's folder, start it, and wait until it streams."""
    _run([*_as_postgres(), str(PG_BIN / "pg_basebackup"), "-D", str(standby.datadir), "-h", "127.0.0.1",
          "-p", str(primary.port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast", "--no-sync"])
    standby.start()
    started.append(standby)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        streaming = primary.sql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
        if streaming == "1" and standby.sql("SELECT pg_is_in_recovery()") == "t":
            return
        time.sleep(0.2)
    raise RuntimeError("the standby did not start streaming within 30 s")


def wait_replayed(primary: PgServer, standby: PgServer, timeout=30):
    """Wait until the standby has replayed everything the primary has written so far."""
    lsn = primary.sql("SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if standby.sql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn") == "t":
            return
        time.sleep(0.1)
    raise RuntimeError("the standby did not catch up")


def copy_schema(source_url: str, target: PgServer, db: str):
    """Create `db` on `target` as a copy of the (migrated, empty) database at `source_url`
    (this test session's test database): faster than running the migrations again."""
    target.sql(f'CREATE DATABASE "{db}"')
    dump = _run([str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", "-d", source_url])
    _run([str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", target.url(db)], input=dump)


@contextmanager
def scratch_database(server: PgServer, source_url: str, db: str):
    """`copy_schema` into a new database on `server`, dropped afterwards."""
    try:
        copy_schema(source_url, server, db)
        yield db
    finally:
        server.try_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


# --- Shopyard processes -------------------------------------------------------

def app_env(home: Path, **extra) -> dict:
    """The environment of a Shopyard process for these tests: its own home, eager
    Celery, the demo's development secrets, and `extra` (DATABASE_URL, REDIS_URL…)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"BROKER_URL", "CELERY_TEST_BROKER", "DATABASE_REPLICA_URLS", "REDIS_URL", "REDIS_KEY_PREFIX",
                        "DATABASE_URL"}}
    env.update(SHOPYARD_HOME=str(home), DJANGO_SETTINGS_MODULE="shopyard.settings", SHOPYARD_DEBUG="0",
               SHOPYARD_DEMO="1", SHOPYARD_LOG_LEVEL="WARNING", SHOPYARD_LOG_REQUESTS="0",
               SHOPYARD_SIMULATED_GATEWAY="1", PYTHONPATH=str(ROOT))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_python(env: dict, code: str) -> dict:
    """Run `code` in a Django process with `env`; it prints one JSON object, returned."""
    script = "import django, json\ndjango.setup()\n" + code
    out = _run([sys.executable, "-c", script], env=env, cwd=ROOT)
    return json.loads(out.strip().splitlines()[-1])


@contextmanager
def gunicorns(envs: list[dict], command=None, started: list | None = None):
    """One gunicorn per environment, each on a free port; their base URLs. `command(port)` is
    its command line (by default one sync worker); `started`, if given, receives the processes."""
    procs, bases = [], []
    try:
        for env in envs:
            port = free_port()
            log = open(Path(env["SHOPYARD_HOME"]) / f"gunicorn-{port}.log", "w")
            procs.append((subprocess.Popen(
                command(port) if command else
                [str(GUNICORN), "shopyard.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                 # a busy CI machine may take longer than gunicorn's default 30 s to import Django
                 "--timeout", "180"],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), log))
            bases.append(f"http://127.0.0.1:{port}")
        if started is not None:
            started.extend(proc for proc, _log in procs)
        deadline = time.monotonic() + 180
        for (proc, log), base in zip(procs, bases, strict=True):
            while True:
                try:
                    urllib.request.urlopen(base + "/health/live", timeout=2).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"gunicorn at {base} did not come up: "
                                           f"{Path(log.name).read_text()[-3000:]}") from None
                    time.sleep(0.2)
        yield bases
    finally:
        for proc, _log in procs:
            proc.terminate()
        for proc, log in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


class Browser:
    """A cookie jar and urllib: what a browser keeps between requests, whichever server answers.
    Cookies of 127.0.0.1 are shared by every port, as behind one load balancer."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), None)

    def forget(self, name):
        for c in list(self.jar):
            if c.name == name:
                self.jar.clear(c.domain, c.path, c.name)

    def request(self, method, url, *, form=None, json_body=None, headers=None):
        headers = {"Accept-Language": "en", **(headers or {})}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if method != "GET":
            headers.setdefault("Referer", url)
            token = self.cookie("csrftoken")
            if token:
                headers.setdefault("X-CSRFToken", token)
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=30) as resp:
                self.url = resp.url  # where the redirects ended
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            self.url = exc.url
            return exc.code, exc.read().decode()

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, form=None, **kw):
        return self.request("POST", url, form=form or {}, **kw)

    def login(self, base, username, password):
        """The login form, as a person fills it in (CSRF token from the page's cookie)."""
        self.get(base + "/accounts/login/")
        return self.post(base + "/accounts/login/", {
            "username": username, "password": password, "csrfmiddlewaretoken": self.cookie("csrftoken") or ""})


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
