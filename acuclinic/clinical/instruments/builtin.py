"""The built-in instruments, version 1 (intake, consent, NRS on; PEG off: clinical-rules §5)."""

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

INSTRUMENTS = [
    {
        "key": "intake",
        "kind": "intake",
        "title": "Intake questionnaire (low back pain)",
        "active": True,
        "source": "Acuclinic; questions from clinical-rules §1 (red flags, the request form's rule set), §2 "
        "(contraindications), §7 (Medicare eligibility), §9.",
        "licence_note": "Written for Acuclinic; free to use under the project's licence.",
    },
    {
        "key": "consent",
        "kind": "consent",
        "title": "Consent to acupuncture",
        "active": True,
        "source": "clinical-rules §11; electronic signature under the US E-SIGN Act (15 U.S.C. 7001).",
        "licence_note": "Written for Acuclinic; the clinic edits the text (each edit is a new version).",
    },
    {
        "key": "nrs",
        "kind": "outcome",
        "title": "Pain rating (0\u201310)",
        "active": True,
        "source": "Pain intensity numeric rating scale, LOINC 72514-3 (clinical-rules \u00a75).",
        "licence_note": "Free to use.",
    },
    {
        "key": "peg",
        "kind": "outcome",
        "title": "PEG: pain, enjoyment of life, general activity",
        "active": False,
        "source": "Krebs EE et al. J Gen Intern Med 2009;24:733 (PMID 19418100). LOINC panel 91148-7, score 91147-9.",
        "licence_note": "Licence terms not confirmed: off by default. Switch it on only once the clinic has "
        "confirmed it may use PEG in its software.",
    },
]


def ensure_builtin(Instrument=None, InstrumentVersion=None):  # noqa: N803 (model classes)
    """Create the built-in instruments' version 1 where missing (the data migration; load_initial_data after a
    test database is flushed). Never changes an instrument that exists: the clinic's choices stay."""
    if Instrument is None:
        from .models import Instrument, InstrumentVersion
    for spec in INSTRUMENTS:
        instrument, _ = Instrument.objects.get_or_create(key=spec["key"], defaults={**spec, "builtin": True})
        definition = json.loads((DATA / f"{spec['key']}-v1.json").read_text())
        text_file = DATA / f"{spec['key']}-v1.txt"
        InstrumentVersion.objects.get_or_create(
            instrument=instrument,
            version=1,
            defaults={
                "definition": definition,
                "text": text_file.read_text().strip() if text_file.exists() else "",
            },
        )
