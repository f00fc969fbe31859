"""`manage.py verify_audit_log`: exit 1 and name the rows when the hash chain of the audit log is broken."""

from django.core.management.base import BaseCommand, CommandError

from acuclinic.accounts.audit import verify_chain


class Command(BaseCommand):
    help = "Check that no audit record was changed, inserted or removed since it was written."

    def handle(self, *args, **options):
        checked, problems = verify_chain()
        for problem in problems:
            self.stderr.write(f"audit record #{problem.seq}: {problem.problem}")
        if problems:
            raise CommandError(f"The audit log is damaged: {len(problems)} problem(s) in {checked} records.")
        self.stdout.write(self.style.SUCCESS(f"The audit log is intact: {checked} records checked."))
