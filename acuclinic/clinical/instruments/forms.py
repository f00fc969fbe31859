"""One Django form per step of any instrument, built from its FHIR-Questionnaire-shaped definition.

Answers are kept as plain JSON values: True/False, an option's code (or a list of codes), an int, an ISO date or
text. A date can never be in the future or before 1900 (nor before the patient was born); an integer keeps to its
minValue/maxValue. Disabled items (enableWhen) are neither required nor kept.
"""

import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from . import questionnaire as q

EARLIEST = date(1900, 1, 1)


def field_name(link_id: str) -> str:
    return link_id.replace(".", "__")


class StepForm(forms.Form):
    def __init__(self, *args, step: dict, answers: dict, today: date, born: date | None = None, **kwargs):
        kwargs.setdefault("initial", {})
        super().__init__(*args, **kwargs)
        self.step = step
        self.today = today
        self.born = born
        self.items = list(q.answer_items(step.get("item", [])))
        self.displays = [item for item in step.get("item", []) if item.get("type") == "display"]
        for item in self.items:
            name = field_name(item["linkId"])
            self.fields[name] = self.build_field(item)
            self.fields[name].item = item
            # The error summary names the question by its first sentence ("When did this back pain start?").
            self.fields[name].summary = re.split(r"(?<=[.?!])\s", self.fields[name].label, maxsplit=1)[0]
            conditions = item.get("enableWhen") or []
            if (
                len(conditions) == 1 and conditions[0].get("operator", "=") == "="
            ):  # shown and hidden as answered
                value = q._condition_value(conditions[0])
                value = {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value
                self.fields[name].enable = (field_name(conditions[0]["question"]), str(value))
            if item["linkId"] in answers:
                self.initial[name] = self.initial_value(item, answers[item["linkId"]])

    @staticmethod
    def initial_value(item, value):
        if item["type"] == "boolean":
            return "yes" if value else "no"
        if item["type"] == "integer":
            return str(value)
        return value

    def build_field(self, item) -> forms.Field:
        kind = item["type"]
        label = item.get("text", item["linkId"])
        required = bool(item.get("required"))
        common = {"label": label, "required": required}
        if kind == "boolean":
            return forms.ChoiceField(
                choices=[("yes", "Yes"), ("no", "No")],
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Please answer yes or no.",
                    "invalid_choice": "Please answer yes or no.",
                },
                **common,
            )
        if kind in ("choice", "open-choice"):
            choices = q.options(item)
            if item.get("repeats"):
                return forms.MultipleChoiceField(
                    choices=choices,
                    widget=forms.CheckboxSelectMultiple,
                    error_messages={
                        "required": "Please choose at least one.",
                        "invalid_choice": "Please choose from the answers shown.",
                    },
                    **common,
                )
            return forms.ChoiceField(
                choices=choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Please choose one.",
                    "invalid_choice": "Please choose one of the answers shown.",
                },
                **common,
            )
        if kind == "integer":
            low, high = q.extension(item, q.MIN_VALUE), q.extension(item, q.MAX_VALUE)
            if low == 0 and high == 10:  # a 0–10 rating: eleven buttons, one tap on a phone
                return forms.ChoiceField(
                    choices=[(str(n), str(n)) for n in range(11)],
                    widget=forms.RadioSelect(attrs={"class": "scale"}),
                    error_messages={
                        "required": "Please choose a number from 0 to 10.",
                        "invalid_choice": "Please choose a number from 0 to 10.",
                    },
                    **common,
                )
            return forms.IntegerField(
                min_value=low,
                max_value=high,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                error_messages={"invalid": "Please enter a whole number."},
                **common,
            )
        if kind == "decimal":
            return forms.DecimalField(max_digits=12, decimal_places=4, **common)
        if kind == "date":
            return forms.DateField(
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                input_formats=["%Y-%m-%d", "%m/%d/%Y"],
                error_messages={
                    "invalid": "Please enter a date as month/day/year, for example 03/14/2026.",
                    "required": "Please enter a date.",
                },
                **common,
            )
        if kind == "text":
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, **common)
        return forms.CharField(max_length=300, **common)

    def clean(self):
        cleaned = super().clean()
        answers = self.answers_from(cleaned, check=False)
        for item in self.items:
            name = field_name(item["linkId"])
            if not q.enabled(item, answers):
                self.errors.pop(name, None)
                cleaned.pop(name, None)
            elif name in cleaned and item["type"] == "date" and cleaned[name]:
                day = cleaned[name]
                if day > self.today:
                    self.add_error(name, "This date is in the future. Please enter a date up to today.")
                elif day < EARLIEST or (self.born and day < self.born):
                    self.add_error(name, "This date is before you were born. Please check the year.")
        return cleaned

    def answers_from(self, cleaned: dict, *, check: bool = True) -> dict:
        """The step's answers as stored: only enabled items, empty answers left out."""
        answers = {}
        for item in self.items:
            name = field_name(item["linkId"])
            value = cleaned.get(name)
            if value in (None, "", []):
                continue
            kind = item["type"]
            if kind == "boolean":
                value = value == "yes"
            elif kind == "integer":
                value = int(value)
            elif kind == "decimal":
                value = float(value)
            elif kind == "date":
                value = value.isoformat()
            elif kind in ("string", "text"):
                value = value.strip()
                if not value:
                    continue
            answers[item["linkId"]] = value
        if check:
            answers = {
                link: value
                for link, value in answers.items()
                if q.enabled(next(i for i in self.items if i["linkId"] == link), answers)
            }
        return answers

    def stored_answers(self) -> dict:
        if not self.is_valid():
            raise ValidationError("The step has errors.")
        return self.answers_from(self.cleaned_data)

    def fields_in_order(self):
        return [self[field_name(item["linkId"])] for item in self.items]
