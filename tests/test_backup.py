"""`shopyard backup` / `shopyard restore` and `shopyard migrate --check`.

The round trip runs on the database of the session: SQLite in the README's
test command, PostgreSQL (pg_dump / pg_restore) in CI's PostgreSQL stage
(DATABASE_URL=postgresql://…). Each test writes real rows (transactional: the
backup tools open their own connections) and real files in MEDIA_ROOT."""

import json
import shutil

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from shopyard import cli
from shopyard.catalog.models import Product
from shopyard.operations.backup import BackupError, backup, read_manifest, restore
from shopyard.operations.schema import pending_migrations
from tests import factories as f

OTHER_KIND = {"sqlite": "postgresql", "postgresql": "sqlite"}


@pytest.fixture
def catalogue(transactional_db, media):
    """Two products and a media file named by nothing but present, as after an upload."""
    seller = f.make_user("backup-seller")
    shop = f.make_shop("备份测试店", owner=seller)
    kept = f.make_product(shop, title="保温杯", price="59.90")
    other = f.make_product(shop, title="帆布包", price="35.00")
    picture = media / "products" / "cup.jpg"
    picture.parent.mkdir(parents=True)
    picture.write_bytes(b"\xff\xd8\xff\xe0 a picture of a cup")
    return kept, other, picture


def _round_trip(tmp_path, catalogue, media):
    kept, other, picture = catalogue
    target = tmp_path / "backups" / "first"

    manifest = backup(target)

    assert manifest["database"]["kind"] == connection.vendor
    assert "catalog.0001_initial" in manifest["migrations"]
    assert json.loads((target / "manifest.json").read_text()) == manifest
    # everything changes after the backup: a price, a deleted product, a deleted
    # picture, a new upload
    Product.objects.filter(pk=kept.pk).update(title="改过的标题")
    Product.objects.filter(pk=other.pk).delete()
    picture.unlink()
    (media / "later.jpg").write_bytes(b"uploaded after the backup")

    done = restore(target)

    assert done.kind == connection.vendor
    assert Product.objects.get(pk=kept.pk).title == "保温杯"
    assert Product.objects.filter(pk=other.pk).exists()
    assert picture.read_bytes() == b"\xff\xd8\xff\xe0 a picture of a cup"
    assert not (media / "later.jpg").exists()
    assert done.pending == []


def test_sqlite_round_trip_brings_back_rows_and_media(tmp_path, catalogue, media):
    if connection.vendor != "sqlite":
        pytest.skip("the session runs on PostgreSQL: test_postgresql_round_trip covers it")
    _round_trip(tmp_path, catalogue, media)
    with open(tmp_path / "backups" / "first" / "database.sqlite3", "rb") as file:
        assert file.read(16) == b"SQLite format 3\x00"


def test_postgresql_round_trip_brings_back_rows_and_media(tmp_path, catalogue, media):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: runs in .ci/run's PostgreSQL stage (DATABASE_URL=postgresql://…)")
    _round_trip(tmp_path, catalogue, media)
    with open(tmp_path / "backups" / "first" / "database.pgdump", "rb") as file:
        assert file.read(5) == b"PGDMP"  # pg_dump's custom format


def test_the_commands_back_up_and_restore(tmp_path, catalogue, capsys):
    kept, _other, _picture = catalogue
    target = tmp_path / "by-command"

    assert cli.main(["backup", str(target)]) == 0
    Product.objects.filter(pk=kept.pk).update(title="改过的标题")
    with pytest.raises(SystemExit) as refused:  # without --yes: nothing happens
        cli.main(["restore", str(target)])
    assert refused.value.code == 1
    assert Product.objects.get(pk=kept.pk).title == "改过的标题"
    assert cli.main(["restore", str(target), "--yes"]) == 0

    assert Product.objects.get(pk=kept.pk).title == "保温杯"
    out = capsys.readouterr()
    assert f"to {target}" in out.out and "Restored the" in out.out
    assert "--yes" in out.err


# --- refusals: each changes nothing --------------------------------------------------


def test_restore_refuses_a_missing_directory(tmp_path, db):
    with pytest.raises(BackupError, match="does not exist"):
        restore(tmp_path / "nowhere")


def test_restore_refuses_a_directory_that_is_not_a_backup(tmp_path, db):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"x")

    with pytest.raises(BackupError, match="is not a Shopyard backup"):
        restore(tmp_path / "photos")
    (tmp_path / "photos" / "manifest.json").write_text("{not json")
    with pytest.raises(BackupError, match="is not a Shopyard backup manifest"):
        restore(tmp_path / "photos")


def test_restore_refuses_a_backup_of_the_other_database_kind(tmp_path, catalogue, media):
    kept, _other, picture = catalogue
    target = tmp_path / "b"
    backup(target)
    manifest = json.loads((target / "manifest.json").read_text())
    other = OTHER_KIND[connection.vendor]
    manifest["database"] = {"kind": other, "file": {"sqlite": "database.sqlite3",
                                                     "postgresql": "database.pgdump"}[other]}
    (target / manifest["database"]["file"]).write_bytes(b"not restored")
    (target / "manifest.json").write_text(json.dumps(manifest))
    Product.objects.filter(pk=kept.pk).update(title="改过的标题")
    picture.unlink()

    with pytest.raises(BackupError) as refused:
        restore(target)

    assert f"holds a {other} database but the site runs on {connection.vendor}" in str(refused.value)
    assert Product.objects.get(pk=kept.pk).title == "改过的标题"
    assert not picture.exists()


def test_restore_refuses_a_backup_without_its_database_file(tmp_path, catalogue):
    target = tmp_path / "b"
    manifest = backup(target)
    (target / manifest["database"]["file"]).unlink()

    with pytest.raises(BackupError, match="the backup is incomplete"):
        read_manifest(target)


def test_backup_refuses_a_directory_that_already_holds_files(tmp_path, db):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.txt").write_text("x")
    (tmp_path / "afile").write_text("x")

    with pytest.raises(BackupError, match="is not empty"):
        backup(tmp_path / "full")
    with pytest.raises(BackupError, match="not a directory"):
        backup(tmp_path / "afile")
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["old.txt"]


def test_a_backup_that_fails_leaves_nothing_behind(tmp_path, catalogue, media):
    (media / "gone.jpg").symlink_to(tmp_path / "no-such-file.jpg")  # a file that cannot be read
    target = tmp_path / "backups" / "failed"

    with pytest.raises(BackupError, match="could not copy the media folder"):
        backup(target)

    assert not target.exists()  # no half backup to restore from, nothing blocking a retry


def test_the_restore_command_reports_bad_input_as_a_message(tmp_path, db):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "nowhere"), "--yes")


# --- migrate --check ------------------------------------------------------------------


def test_migrate_check_exits_0_when_nothing_is_pending(db, capsys):
    assert cli.main(["migrate", "--check"]) == 0
    assert capsys.readouterr().out.strip() == "No pending migrations."


def test_migrate_check_lists_what_is_pending_exits_1_and_applies_nothing(transactional_db, capsys):
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="catalog").order_by("-id").first()
    latest_name = f"catalog.{latest.name}"
    latest.delete()  # as if the code had a migration the database has not seen
    try:
        assert cli.main(["migrate", "--check"]) == 1

        out = capsys.readouterr().out
        assert out.splitlines() == ["1 pending migrations:", f"  {latest_name}"]
        assert pending_migrations() == [latest_name]  # still pending: nothing was applied
    finally:
        recorder.record_applied("catalog", latest.name)


def test_migrate_check_on_a_site_without_a_database_creates_none(tmp_path):
    import os
    import subprocess
    import sys

    home = tmp_path / "empty-home"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SHOPYARD_TEST_SQLITE"}}
    env["SHOPYARD_HOME"] = str(home)
    done = subprocess.run([sys.executable, "-m", "shopyard.cli", "migrate", "--check"], env=env,
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 1, done.stderr
    assert "  accounts.0001_initial" in done.stdout.splitlines()
    assert not (home / "shopyard.sqlite3").exists()
    shutil.rmtree(home, ignore_errors=True)
