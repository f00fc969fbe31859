from django import forms


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text="The 6-digit code your authenticator app shows, or one of your recovery codes.",
    )

    def clean_token(self):
        return self.cleaned_data["token"].replace(" ", "").replace("-", "")


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        required=False, max_length=150, label="Staff member", help_text="Username or user id"
    )
    action = forms.ChoiceField(required=False, label="Action")
    object_type = forms.ChoiceField(required=False, label="Record type")
    object_id = forms.CharField(required=False, max_length=64, label="Record id")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    ip_address = forms.GenericIPAddressField(required=False, label="Address")

    def __init__(self, *args, object_types=(), **kwargs):
        from .models import AuditEvent

        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any"), *AuditEvent.Action.choices]
        self.fields["object_type"].choices = [("", "Any"), *((t, t) for t in object_types if t)]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value}
