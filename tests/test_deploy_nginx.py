"""deploy/nginx/shopyard.conf, run: Debian's nginx with exactly that file in
front of gunicorn started with the web unit's own command line, both on this
test's database.

What is rewritten to run unprivileged on a shared machine, and nothing else:
the listen ports (free ones on loopback), SHOPYARD_HOME's path, the
certificate paths (a self-signed certificate made here) and the upstream
port. docs/operations.md shows the file whole; a test keeps the two equal.
"""

import http.client
import os
import pwd
import re
import secrets
import socket
import ssl
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.db import connection

from tests import factories as f
from tests.test_deploy_systemd import INSTALLED_BIN, exec_start

pytestmark = pytest.mark.nginx

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "deploy" / "nginx" / "shopyard.conf"
NGINX = Path("/usr/sbin/nginx")
SITE = "shop.example.com"
SHIPPED_HOME = "/var/lib/shopyard/"
SHIPPED_CERTS = f"/etc/letsencrypt/live/{SITE}/"
SHIPPED_UPSTREAM = "127.0.0.1:8000"
CLIENT = "127.0.0.2"  # the shopper: nginx sees this address, gunicorn only nginx's 127.0.0.1
OTHER_CLIENT = "127.0.0.3"
START_TIMEOUT = 60
SLOW = 180  # seconds a request may take on a shared, loaded test machine
# a machine with nothing configured but what this test sets
SERVICE_VARIABLES = {
    "DATABASE_URL", "REDIS_URL", "BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_QUEUE", "SHOPYARD_DEBUG",
    "SHOPYARD_DEMO", "SHOPYARD_SIMULATED_GATEWAY", "SHOPYARD_TEST_SQLITE", "SHOPYARD_MEDIA_ROOT",
    "SHOPYARD_LOG_FORMAT", "PROMETHEUS_MULTIPROC_DIR",
}


def test_the_guide_shows_exactly_the_shipped_file():
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = guide.split("## Behind a reverse proxy", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```nginx\n(.*?)```", section, re.S)

    assert blocks == [CONF.read_text(encoding="utf-8")]


# --- the running pair ---------------------------------------------------------


def _free_port(host="127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def _database_url() -> str:
    """The URL of the database this test session really uses (test_<name>)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db.get("USER") or "", safe="")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"], safe="")
        return f"postgresql://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{quote(db['NAME'], safe='')}"
    return f"sqlite:///{Path(db['NAME']).resolve()}"


def _self_signed(folder: Path) -> Path:
    """fullchain.pem and privkey.pem for SITE and 127.0.0.1; returns the certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SITE)])
    now = datetime.now(UTC)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(SITE), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True)
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return folder / "fullchain.pem"


def site_config(home: Path, certs: Path, http_port: int, https_port: int, app_port: int) -> str:
    """The shipped file with only ports and paths rewritten; every rewrite must hit."""
    text = CONF.read_text(encoding="utf-8")
    v6 = _ipv6_loopback()
    rewrites = [
        (SHIPPED_CERTS, f"{certs}/"),
        (SHIPPED_HOME, f"{home}/"),
        (f"server {SHIPPED_UPSTREAM};", f"server 127.0.0.1:{app_port};"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", f"listen [::1]:{http_port};" if v6 else ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", f"listen [::1]:{https_port} ssl http2;" if v6 else ""),
    ]
    for old, new in rewrites:
        assert old in text, f"{old!r} is no longer in {CONF.name}: update this test's rewrites"
        text = text.replace(old, new)
    return text


def main_config(prefix: Path, site: Path) -> str:
    """What /etc/nginx/nginx.conf is on Debian, reduced to an unprivileged prefix."""
    # as root (a container), nginx's workers would run as `nobody` and could not
    # write their temporary files here: keep them this user's
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    return f"""daemon off;
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {site};
}}
"""


def gunicorn_command(port: int, access_log: Path) -> list[str]:
    """The web unit's ExecStart, with this virtualenv, a free port, one worker
    (a shared test machine) and an access log to tell who served what."""
    command = exec_start("shopyard-web.service")
    assert command[0] == INSTALLED_BIN + "gunicorn"
    command[0] = str(Path(sys.executable).with_name("gunicorn"))
    bind = command.index("--bind") + 1
    assert command[bind] == SHIPPED_UPSTREAM
    command[bind] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"
    # a loaded test machine may take longer than production's 30 s for a first request
    command[command.index("--timeout") + 1] = str(SLOW)
    return [*command, "--access-logfile", str(access_log)]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not listen on {port} within {START_TIMEOUT} s:\n{_tail(log)}")
            time.sleep(0.2)


def _wait_until_answering(port: int, proc: subprocess.Popen, log: Path) -> None:
    """The worker has loaded the app: a first request answers (the port opens before)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SLOW)
    try:
        conn.request("GET", "/health/live", headers={"Host": SITE})
        assert conn.getresponse().status == 200, _tail(log)
    finally:
        conn.close()
    assert proc.poll() is None, _tail(log)


def _tail(path: Path, lines=40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Stack:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def request(self, method, path, *, tls=True, source=CLIENT, headers=None, body=None):
        """(status, headers, body) of one request to nginx from `source`, as `SITE`."""
        if tls:
            context = ssl.create_default_context(cafile=str(self.certificate))
            conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=context,
                                               source_address=(source, 0), timeout=SLOW)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, source_address=(source, 0), timeout=SLOW)
        try:
            conn.request(method, path, body=body, headers={"Host": SITE, **(headers or {})})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def gunicorn_saw(self, path: str) -> bool:
        """Whether gunicorn's access log has a request for `path`. A marked request
        goes through nginx first and is waited for: gunicorn writes a line after
        the response, and its one worker handles requests in order, so every
        earlier request is in the log by then."""
        marker = f"/health/live?seen={secrets.token_hex(8)}"
        status, _headers, _body = self.request("GET", marker)
        assert status == 200
        deadline = time.monotonic() + 10
        while True:
            lines = self.access_log.read_text(errors="replace").splitlines() if self.access_log.exists() else []
            if any(f" {marker} " in line for line in lines):
                return any(f" {path} " in line or f" {path}?" in line for line in lines)
            assert time.monotonic() < deadline, "gunicorn logged no line for the marked request"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn (the web unit's command) behind nginx (the shipped site file)."""
    if not NGINX.exists():
        pytest.skip(f"{NGINX} is not installed (Debian package nginx; .ci/run installs it)")
    base = tmp_path_factory.mktemp("nginx-stack")
    home = base / "home"
    (home / "media").mkdir(parents=True)
    app_port, http_port, https_port = _free_port(), _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    with django_db_blocker.unblock():
        database_url = _database_url()
    env.update({
        "DJANGO_SETTINGS_MODULE": "shopyard.settings",
        "PYTHONUNBUFFERED": "1",
        "SHOPYARD_HOME": str(home),
        "DATABASE_URL": database_url,
        "DB_CONN_MAX_AGE": "0",  # no connection left open when the test database is flushed or dropped
        "SHOPYARD_SECRET_KEY": secrets.token_urlsafe(50),
        "SHOPYARD_ALLOWED_HOSTS": SITE,
        "SHOPYARD_CSRF_TRUSTED_ORIGINS": f"https://{SITE}",
        # what docs/operations.md tells the operator to set behind this file
        "SHOPYARD_SERVE_MEDIA": "0",
        "SHOPYARD_TRUSTED_PROXY_COUNT": "1",
        "SHOPYARD_HTTPS": "1",
        "SHOPYARD_SSL_REDIRECT": "1",
        "SHOPYARD_HSTS_SECONDS": "31536000",
        # an observable use of the client address: only CLIENT may read the metrics page
        "SHOPYARD_METRICS_ALLOW": CLIENT,
        "SHOPYARD_LOG_FORMAT": "json",
    })
    collected = subprocess.run([sys.executable, "-m", "django", "collectstatic", "--noinput", "-v0"],
                               env=env, cwd=base, capture_output=True, text=True, timeout=300)
    assert collected.returncode == 0, collected.stderr
    certificate = _self_signed(base / "certs")
    prefix = base / "nginx"
    prefix.mkdir()
    site = prefix / "shopyard.conf"
    site.write_text(site_config(home, base / "certs", http_port, https_port, app_port), encoding="utf-8")
    main = prefix / "nginx.conf"
    main.write_text(main_config(prefix, site), encoding="utf-8")
    tested = subprocess.run([str(NGINX), "-t", "-e", str(prefix / "error.log"), "-p", str(prefix), "-c", str(main)],
                            capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stderr

    access_log = base / "gunicorn-access.log"
    app_log = base / "gunicorn.log"
    nginx_log = prefix / "error.log"
    with open(app_log, "wb") as out:
        app = subprocess.Popen(gunicorn_command(app_port, access_log), env=env, cwd=base,
                               stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(app_port, app, app_log, "gunicorn")
        _wait_until_answering(app_port, app, app_log)
        with open(base / "nginx.out", "wb") as out:
            proxy = subprocess.Popen([str(NGINX), "-e", str(nginx_log), "-p", str(prefix), "-c", str(main)],
                                     stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(https_port, proxy, nginx_log, "nginx")
            yield Stack(home=home, certificate=certificate, app_port=app_port, http_port=http_port,
                        https_port=https_port, access_log=access_log, app_log=app_log)
        finally:
            _stop(proxy)
    finally:
        _stop(app)


def _png(size=(700, 700)) -> bytes:
    """A real picture of random pixels: over 1 MiB as PNG (nginx's default body limit)."""
    from PIL import Image

    out = BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, format="PNG")
    return out.getvalue()


def _multipart(field: str, filename: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _user_with_password(settings, username: str, password: str):
    """A user gunicorn can log in: hashed with Django's real hashers (the suite's
    MD5 one is not among the server's), committed so gunicorn sees it."""
    from django.conf import global_settings
    from django.contrib.auth.hashers import make_password

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    user = f.make_user(username)
    user.password = make_password(password)
    user.save(update_fields=["password"])
    return user


def _json(body: bytes):
    import json

    return json.loads(body)


def _cookie(headers, name: str) -> str | None:
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith(f"{name}="):
            return value
    return None


# --- static and media: nginx serves them itself ----------------------------------


def test_static_files_are_served_by_nginx_not_gunicorn(stack):
    collected = stack.home / "static" / "shopyard" / "site.css"

    status, headers, body = stack.request("GET", "/static/shopyard/site.css")

    assert status == 200
    assert body == collected.read_bytes()
    assert headers["Content-Type"].startswith("text/css")
    assert "X-Request-ID" not in headers  # every response of the app carries one
    assert not stack.gunicorn_saw("/static/shopyard/site.css")
    # while a page does reach gunicorn (so the log above is the right one)
    status, headers, _body = stack.request("GET", "/health/live")
    assert status == 200 and headers["X-Request-ID"]
    assert stack.gunicorn_saw("/health/live")


@pytest.mark.django_db(transaction=True)
def test_an_image_uploaded_through_nginx_is_served_by_nginx(stack, settings):
    seller = _user_with_password(settings, "nginx-seller", "Proxy-pass-123")
    shop = f.make_shop("代理测试店", owner=seller)
    product = f.make_product(shop)
    status, _headers, answer = stack.request(
        "POST", "/api/v1/auth/token", body=b'{"username": "nginx-seller", "password": "Proxy-pass-123"}',
        headers={"Content-Type": "application/json"})
    assert status == 200, answer
    picture = _png()
    assert len(picture) > 1024 * 1024
    body, content_type = _multipart("image", "photo.png", picture, "image/png")

    status, _headers, answer = stack.request(
        "POST", f"/api/v1/seller/products/{product.pk}/images", body=body,
        headers={"Authorization": f"Bearer {_json(answer)['token']}", "Content-Type": content_type})

    assert status == 201, answer
    url = _json(answer)["url"]
    path = url.split(SITE, 1)[-1] if url.startswith("http") else url
    assert path.startswith("/media/")
    status, headers, served = stack.request("GET", path)
    assert status == 200
    assert served == (stack.home / "media" / path.removeprefix("/media/")).read_bytes()
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Request-ID" not in headers
    assert not stack.gunicorn_saw(path)


# --- the client's address -----------------------------------------------------------


def test_the_app_sees_the_client_address_nginx_passed_not_one_the_client_wrote(stack):
    # only CLIENT (127.0.0.2) may read the metrics page; gunicorn itself is only
    # ever connected to from nginx's 127.0.0.1
    allowed, _h, page = stack.request("GET", "/metrics")
    forged, _h, _b = stack.request("GET", "/metrics", source=OTHER_CLIENT,
                                   headers={"X-Forwarded-For": CLIENT, "X-Real-IP": CLIENT})
    spoofing_away, _h, _b = stack.request("GET", "/metrics", headers={"X-Forwarded-For": "10.9.9.9"})

    assert allowed == 200 and b"django_http_requests" in page
    assert forged == 404
    assert spoofing_away == 200


# --- HTTPS ----------------------------------------------------------------------------


def test_plain_http_is_sent_to_https_without_reaching_the_app(stack):
    status, headers, _body = stack.request("GET", "/accounts/login/?next=/cart/", tls=False)

    assert status == 301
    assert headers["Location"] == f"https://{SITE}/accounts/login/?next=/cart/"
    assert "X-Request-ID" not in headers


def test_a_load_balancer_may_probe_health_over_plain_http(stack):
    status, headers, body = stack.request("GET", "/health/live", tls=False)

    assert status == 200 and body == b"ok\n"
    assert headers["X-Request-ID"]  # answered by the app, not redirected


@pytest.mark.django_db(transaction=True)
def test_over_https_the_app_sees_a_secure_request_and_sets_secure_cookies(stack, settings):
    _user_with_password(settings, "nginx-shopper", "Proxy-pass-123")

    # a client claiming plain HTTP cannot talk the app out of HTTPS: nginx sets the header
    status, headers, page = stack.request("GET", "/accounts/login/", headers={"X-Forwarded-Proto": "http"})

    assert status == 200  # not redirected to https: the app knows it is already
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    csrf = _cookie(headers, "csrftoken")
    assert csrf and "; Secure" in csrf
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()

    status, headers, _body = stack.request(
        "POST", "/accounts/login/",
        body=urlencode({"csrfmiddlewaretoken": token, "username": "nginx-shopper", "password": "Proxy-pass-123"}),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": f"https://{SITE}",
                 "Referer": f"https://{SITE}/accounts/login/", "Cookie": csrf.split(";", 1)[0]})

    assert status == 302, _body[:500]
    session = _cookie(headers, "sessionid")
    assert session and "; Secure" in session and "HttpOnly" in session


# --- gunicorn is reachable only from nginx ---------------------------------------------


def _outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.254", 9))
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") else address


def test_gunicorn_listens_on_loopback_only(stack):
    outward = _outward_address()
    if outward is None:
        pytest.skip("this machine has no address besides loopback to try gunicorn's port on")
    with socket.create_connection(("127.0.0.1", stack.app_port), timeout=5):
        pass  # up, for nginx

    with pytest.raises(OSError):
        with socket.create_connection((outward, stack.app_port), timeout=5):
            pass
