"""`shopyard restore <dir> --yes`: put back a backup made by `shopyard backup`."""

from django.core.management.base import BaseCommand, CommandError

from shopyard.operations.backup import BackupError, read_manifest, restore


class Command(BaseCommand):
    help = ("Replace the database and the media folder with a backup made by `shopyard backup`. "
            "Stop the web processes and workers first.")

    def add_arguments(self, parser):
        parser.add_argument("directory", help="a directory written by `shopyard backup`")
        parser.add_argument("--yes", action="store_true",
                            help="confirm: the current database and media are replaced")

    def handle(self, *args, directory, yes, **options):
        try:
            manifest = read_manifest(directory)
            if not yes:
                raise CommandError(
                    f"this replaces the database and the media folder with the backup of {manifest['created_at']}; "
                    "stop the site and run again with --yes")
            done = restore(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored the {done.kind} database and {done.media_files} media files "
                          f"from the backup of {done.created_at}")
        if done.pending:
            self.stdout.write(f"{len(done.pending)} migrations of this release are not applied to the "
                              "restored database: run `shopyard migrate`")
