"""`manage.py restore_database PATH`: replace the database's content with a backup (and restore its media)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from acuclinic.core import backup


class Command(BaseCommand):
    help = (
        "Replace everything in the database with a backup made by backup_database, after saving the current "
        "database to var/backups/before-restore-*. Media in <backup>.media.tar.gz are added back."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="a file written by backup_database")
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive", help="do not ask to confirm"
        )
        parser.add_argument("--no-media", action="store_true", help="do not restore the media archive")
        parser.add_argument(
            "--no-safety-backup",
            action="store_true",
            help="do not save the current database first (e.g. when it is damaged)",
        )
        parser.add_argument("--database", default="default", help="the database alias (default: default)")

    def handle(self, *args, **options):
        using, path = options["database"], options["path"]
        try:
            backup.check_backup(path, using)  # a wrong file is refused before anyone is asked anything
            target = backup.describe(using)
            if options["interactive"]:
                answer = input(
                    f"This replaces everything in {target} with {path}.\nType 'yes' to continue, anything else "
                    "to cancel: "
                )
                if answer.strip().lower() != "yes":
                    raise CommandError("Restore cancelled; nothing was changed.")
            result = backup.restore(
                path,
                media=not options["no_media"],
                safety_backup=not options["no_safety_backup"],
                using=using,
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        if result.safety_backup:
            self.stdout.write(f"The database as it was before: {result.safety_backup}")
        self.stdout.write(self.style.SUCCESS(f"Restored {result.database} from {path}."))
        if result.media_files is not None:
            self.stdout.write(f"Media: {result.media_files} file(s) restored.")
        for note in result.notes:
            self.stdout.write(self.style.WARNING(note))
