"""The systemd units in deploy/systemd pass `systemd-analyze verify`, which
parses every key (an unknown or misspelt option is a warning here, and fails
the test) and checks that each command exists.

The shipped files are the source of truth: the test only points ExecStart at
this virtualenv's gunicorn and celery, which the installed paths
(/srv/shopyard/.venv/bin) would not find on a test machine."""

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
INSTALLED_BIN = "/srv/shopyard/.venv/bin/"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
UNIT_NAMES = ["shopyard-web.service", "shopyard-worker.service", "shopyard-beat.service"]


def unit_settings(path: Path) -> dict[str, list[str]]:
    """KEY -> values of a unit file, in order (comments and sections ignored)."""
    found: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def exec_start(name: str) -> list[str]:
    (command,) = unit_settings(UNITS / name)["ExecStart"]
    return shlex.split(command)


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (Debian package systemd)")
def test_the_units_pass_systemd_analyze_verify(tmp_path):
    venv_bin = str(Path(sys.executable).parent) + "/"
    for name in UNIT_NAMES:
        text = (UNITS / name).read_text(encoding="utf-8")
        assert INSTALLED_BIN in text, name
        (tmp_path / name).write_text(text.replace(INSTALLED_BIN, venv_bin), encoding="utf-8")

    done = subprocess.run([SYSTEMD_ANALYZE, "verify", *(str(tmp_path / n) for n in UNIT_NAMES)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    # unknown keys, bad values and missing binaries are all reported on stderr
    assert done.stderr.strip() == "", done.stderr


@pytest.mark.parametrize("name", UNIT_NAMES)
def test_each_unit_runs_as_the_service_user_with_its_environment_restarted_and_confined(name):
    found = unit_settings(UNITS / name)

    assert found["User"] == ["shopyard"]
    assert found["EnvironmentFile"] == ["/etc/shopyard/shopyard.env"]
    assert found["Restart"] == ["on-failure"]
    assert found["ProtectSystem"] == ["strict"]
    assert found["StateDirectory"] == ["shopyard"]  # /var/lib/shopyard, the only writable place
    assert found["NoNewPrivileges"] == ["yes"]
    assert found["WantedBy"] == ["multi-user.target"]


def test_the_units_run_the_processes_the_guide_names():
    web = exec_start("shopyard-web.service")
    worker = exec_start("shopyard-worker.service")
    beat = exec_start("shopyard-beat.service")

    assert web[:2] == [INSTALLED_BIN + "gunicorn", "shopyard.wsgi"]
    # gunicorn is reachable from this host only: nginx in front
    assert web[web.index("--bind") + 1].startswith("127.0.0.1:")
    assert worker[:4] == [INSTALLED_BIN + "celery", "-A", "shopyard", "worker"]
    assert beat[:4] == [INSTALLED_BIN + "celery", "-A", "shopyard", "beat"]
    assert beat[beat.index("-s") + 1].startswith("/var/lib/shopyard/")
