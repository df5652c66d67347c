"""`shopyard backup <dir>`: the database and MEDIA_ROOT together (operations.backup)."""

from django.core.management.base import BaseCommand, CommandError

from shopyard.operations.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database and the media folder into a new directory (safe while the site runs)."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="where to write the backup; created, must be empty")

    def handle(self, *args, directory, **options):
        try:
            manifest = backup(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Backed up the {manifest['database']['kind']} database ({len(manifest['migrations'])} migrations "
            f"applied) and {manifest['media']['files']} media files to {directory} at {manifest['created_at']}")
