"""Back up and restore the database and the media folder together.

A backup is a directory: `manifest.json` (when, which database kind, which
migrations were applied), the database (`database.sqlite3` made with SQLite's
online backup API, safe while the site runs; or `database.pgdump`, pg_dump's
custom format) and a copy of MEDIA_ROOT under `media/`. Product rows name their
image files, so the two are only useful as a pair: restoring one without the
other leaves rows pointing at missing files, or files nothing points at.

The commands `shopyard backup` / `shopyard restore` call this module; the
operator's guide is docs/operations.md, "Backups and upgrades".
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from .schema import applied_migrations, pending_migrations

MANIFEST = "manifest.json"
FORMAT = 1
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA_DIR = "media"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the operator."""


@dataclass(frozen=True)
class Restored:
    kind: str
    created_at: str
    media_files: int
    pending: list


# --- backup ---------------------------------------------------------------------


def backup(target, alias=DEFAULT_DB_ALIAS) -> dict:
    """Write a backup of the database and MEDIA_ROOT into the directory `target`
    (created if missing; it must not hold anything yet). Returns the manifest."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} is a file, not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    connection = connections[alias]
    kind = _kind(connection)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    database_file = target / DATABASE_FILES[kind]
    try:
        if kind == "sqlite":
            _sqlite_copy(Path(connection.settings_dict["NAME"]), database_file)
        else:
            _run([_pg_tool("pg_dump"), "--format=custom", "--file", str(database_file)],
                 _pg_env(connection.settings_dict), "pg_dump")
        media = Path(settings.MEDIA_ROOT)
        if media.is_dir():
            try:
                shutil.copytree(media, target / MEDIA_DIR)
            except OSError as exc:  # shutil.Error lists every file it could not copy
                raise BackupError(f"could not copy the media folder {media}: {exc}") from exc
        else:
            (target / MEDIA_DIR).mkdir()
    except BaseException:
        # nothing half-written stays behind to be mistaken for a backup or block a retry
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            for child in target.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    manifest = {
        "format": FORMAT,
        "created_at": created_at,
        "database": {"kind": kind, "file": database_file.name},
        "media": {"dir": MEDIA_DIR, "files": _count_files(target / MEDIA_DIR)},
        "migrations": applied_migrations(alias),
    }
    # written last: a directory without it is an unfinished backup, and restore refuses it
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _sqlite_copy(source: Path, destination: Path) -> None:
    """SQLite's online backup API, page by page: a consistent copy of a database the
    site is writing to, and, into a live file, one that its WAL and anyone holding it
    open see consistently. The source is opened read-only."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(destination, timeout=30)) as dst:
        src.backup(dst)


# --- restore --------------------------------------------------------------------


def read_manifest(source) -> dict:
    """The manifest of the backup in `source`, checked enough to restore from."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if not source.is_dir():
        raise BackupError(f"{source} is not a directory")
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} is not a Shopyard backup (no {MANIFEST}); "
                          "an interrupted backup has none either")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        kind = manifest["database"]["kind"]
        database_file = manifest["database"]["file"]
        version = manifest["format"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{path} is not a Shopyard backup manifest ({exc.__class__.__name__}: {exc})") from exc
    if version != FORMAT:
        raise BackupError(f"{path} has format {version!r}; this version reads format {FORMAT}")
    if kind not in DATABASE_FILES or database_file != DATABASE_FILES[kind]:
        raise BackupError(f"{path} names an unknown database kind {kind!r} or file {database_file!r}")
    if not (source / database_file).is_file():
        raise BackupError(f"{source} has no {database_file}: the backup is incomplete")
    if not (source / MEDIA_DIR).is_dir():
        raise BackupError(f"{source} has no {MEDIA_DIR}/ folder: the backup is incomplete")
    return manifest


def restore(source, alias=DEFAULT_DB_ALIAS) -> Restored:
    """Replace the database and MEDIA_ROOT with the backup in `source`.

    Stop the web processes and workers first: what they write meanwhile is lost.
    The database is restored before the media folder is swapped, so a failed
    database restore leaves the media untouched."""
    source = Path(source)
    manifest = read_manifest(source)
    connection = connections[alias]
    kind = _kind(connection)
    if manifest["database"]["kind"] != kind:
        raise BackupError(
            f"this backup holds a {manifest['database']['kind']} database but the site runs on {kind}: "
            f"restore it into a {manifest['database']['kind']} site (DATABASE_URL), then move the data "
            "with `shopyard manage dumpdata` / `loaddata` if needed")
    database_file = source / manifest["database"]["file"]
    connection.close()
    if kind == "sqlite":
        _sqlite_restore(database_file, Path(connection.settings_dict["NAME"]))
    else:
        # one transaction: a failing restore leaves the database as it was
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--exit-on-error", "--dbname", connection.settings_dict["NAME"], str(database_file)],
             _pg_env(connection.settings_dict), "pg_restore")
    files = _replace_media(source / MEDIA_DIR, Path(settings.MEDIA_ROOT))
    return Restored(kind=kind, created_at=manifest["created_at"], media_files=files,
                    pending=pending_migrations(alias))


def _sqlite_restore(backup_file: Path, database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(backup_file, database)


def _replace_media(backup_media: Path, media_root: Path) -> int:
    """Copy the backup's media next to MEDIA_ROOT, then swap the two folders:
    files added since the backup go, and a failed copy leaves MEDIA_ROOT as it was."""
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{media_root.name}-restore-", dir=media_root.parent))
    try:
        shutil.copytree(backup_media, staging / "media")
        if media_root.exists():
            os.replace(media_root, staging / "old")
        os.replace(staging / "media", media_root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _count_files(media_root)


# --- helpers ----------------------------------------------------------------------


def _kind(connection) -> str:
    if connection.vendor not in DATABASE_FILES:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {connection.vendor}")
    return connection.vendor


def _count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} was not found on PATH: install the PostgreSQL client "
                          "(Debian: apt-get install postgresql-client), the same major version as the server or newer")
    return path


def _pg_env(db: dict) -> dict:
    """libpq's variables for the connection Django uses (so no password on a command line)."""
    env = dict(os.environ)
    for variable, value in (("PGHOST", db.get("HOST")), ("PGPORT", db.get("PORT")), ("PGUSER", db.get("USER")),
                            ("PGPASSWORD", db.get("PASSWORD")), ("PGDATABASE", db.get("NAME"))):
        if value:
            env[variable] = str(value)
    options = db.get("OPTIONS") or {}
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"),
                             ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY"),
                             ("connect_timeout", "PGCONNECT_TIMEOUT")):
        if options.get(option) is not None:
            env[variable] = str(options[option])
    return env


def _run(command: list, env: dict, what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
