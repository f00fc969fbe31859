"""Forms of the back office's "Questionnaires & consent" pages. A Questionnaire pasted or uploaded is checked by
fhir.definition_problems (FHIR R4 with fhir.resources R4B, then what the renderer needs); each problem is shown next
to the field it came from."""

from django import forms

from .fhir import MAX_BYTES, definition_problems
from .models import Instrument
from .services import ADDABLE_KINDS, CONSENT_STAYS_ON

CONSENT_MAX_CHARS = 20_000


class SwitchForm(forms.Form):
    """Switch on or off. Switching on asks the person to confirm the licence note they have just read."""

    active = forms.TypedChoiceField(
        choices=[("on", "On"), ("off", "Off")],
        coerce=lambda value: value == "on",
        widget=forms.HiddenInput,
        error_messages={"required": "Choose on or off.", "invalid_choice": "Choose on or off."},
    )
    licence_confirmed = forms.BooleanField(
        label="The clinic may use this instrument on the terms above",
        required=False,
    )

    def __init__(self, *args, instrument: Instrument, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument

    def clean(self):
        data = super().clean()
        if data.get("active") is False and self.instrument.kind == Instrument.Kind.CONSENT:
            raise forms.ValidationError(CONSENT_STAYS_ON)
        if data.get("active") and self.instrument.licence_note and not data.get("licence_confirmed"):
            self.add_error(
                "licence_confirmed",
                "Tick this box once you have checked the licence note: nothing was changed.",
            )
        return data


class ConsentTextForm(forms.Form):
    text = forms.CharField(
        label="Consent text",
        widget=forms.Textarea(attrs={"rows": 22, "class": "acu-consent-text"}),
        max_length=CONSENT_MAX_CHARS,
        help_text="What the patient reads before signing. Saving makes a new version; every signed consent keeps "
        "the version it was signed with.",
        error_messages={"required": "The consent text cannot be empty."},
    )


class QuestionnaireField(forms.Form):
    """The FHIR Questionnaire, pasted or uploaded (a file wins over pasted text)."""

    questionnaire_json = forms.CharField(
        label="FHIR Questionnaire (JSON)",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "acu-code"}),
        help_text='Paste a FHIR R4 Questionnaire resource ("resourceType": "Questionnaire"), or choose a file below.',
    )
    questionnaire_file = forms.FileField(
        label="Or upload a .json file",
        required=False,
        help_text=f"At most {MAX_BYTES // 1024} KB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json,application/fhir+json"}),
    )

    def clean(self):
        data = super().clean()
        upload = data.get("questionnaire_file")
        field = "questionnaire_file" if upload else "questionnaire_json"
        if upload and upload.size > MAX_BYTES:
            self.add_error(
                field,
                f"This file is {upload.size // 1024} KB; a questionnaire may be at most {MAX_BYTES // 1024} KB.",
            )
            data["definition"] = None
            return data
        raw = upload.read(MAX_BYTES + 1) if upload else (data.get("questionnaire_json") or "")
        definition, problems = definition_problems(raw)
        if problems:
            self.add_error(field, problems)
        data["definition"] = definition
        return data


class InstrumentAddForm(QuestionnaireField):
    title = forms.CharField(label="Title", max_length=200, help_text="As staff and patients will see it.")
    key = forms.SlugField(
        label="Key",
        max_length=60,
        help_text="A short, stable name in lower case: letters, digits and hyphens, e.g. roland-morris.",
        error_messages={"invalid": "Use only lower-case letters, digits, hyphens and underscores."},
    )
    kind = forms.ChoiceField(
        label="Kind",
        choices=[(kind.value, kind.label) for kind in ADDABLE_KINDS],
        widget=forms.RadioSelect,
    )
    licence_note = forms.CharField(
        label="Licence note",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who holds the rights and on what terms the clinic uses this instrument.",
        error_messages={"required": "Say who holds the rights and on what terms the clinic uses it."},
    )
    source = forms.CharField(
        label="Source",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Where the instrument comes from (a citation).",
    )

    field_order = [
        "title",
        "key",
        "kind",
        "licence_note",
        "source",
        "questionnaire_json",
        "questionnaire_file",
    ]

    def clean_key(self):
        key = self.cleaned_data["key"].lower()
        if Instrument.objects.filter(key=key).exists():
            raise forms.ValidationError("An instrument with this key exists already.")
        return key

    def clean_licence_note(self):
        note = self.cleaned_data["licence_note"].strip()
        if not note:
            raise forms.ValidationError("Say who holds the rights and on what terms the clinic uses it.")
        return note


class NewVersionForm(QuestionnaireField):
    pass
