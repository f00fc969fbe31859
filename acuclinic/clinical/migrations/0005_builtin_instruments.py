"""The built-in instruments, version 1: the intake questionnaire, the consent form, the 0–10 pain rating (on) and
PEG (off until the clinic confirms its licence terms; clinical-rules §5). The definitions are the JSON files in
clinical/instruments/data/*-v1.json, read here once: a later change to an instrument is a new version, loaded by a
new migration or made in the back office."""

from django.db import migrations

from acuclinic.clinical.instruments.builtin import ensure_builtin


def load(apps, schema_editor):
    ensure_builtin(apps.get_model("clinical", "Instrument"), apps.get_model("clinical", "InstrumentVersion"))


class Migration(migrations.Migration):
    dependencies = [("clinical", "0004_clinical_course_part1")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
