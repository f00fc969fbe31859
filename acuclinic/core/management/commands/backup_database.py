"""`manage.py backup_database [--output PATH]`: a consistent copy of the database (and media) while the site runs."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from acuclinic.core import backup


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{size} bytes, {value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup, or pg_dump --format=custom) and the uploaded media to "
        "files readable by their owner only. See README, 'Backup and restore'."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            type=Path,
            help="the database backup file (default: var/backups/acuclinic-<UTC time>.sqlite3 or .dump); "
            f"media go to the same name plus {backup.MEDIA_SUFFIX}",
        )
        parser.add_argument("--no-media", action="store_true", help="leave the uploaded media out")
        parser.add_argument(
            "--overwrite", action="store_true", help="replace existing files of the same name"
        )
        parser.add_argument("--database", default="default", help="the database alias (default: default)")

    def handle(self, *args, **options):
        using = options["database"]
        output = options["output"] or backup.default_backup_path(using)
        try:
            result = backup.backup(
                output, media=not options["no_media"], overwrite=options["overwrite"], using=using
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Database backup: {result.database} ({human_size(result.size)})")
        if result.media:
            self.stdout.write(f"Media backup:    {result.media} ({human_size(result.media_size)})")
        for note in result.notes:
            self.stdout.write(note)
