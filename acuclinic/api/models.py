"""API clients: other systems that book on patients' behalf through the FHIR API (OAuth 2.0 client credentials).

Each client is an ``oauth2_provider`` Application (client id, hashed secret, grant type client credentials) plus
what the clinic decides about it here: the scopes it may ask for, its own booking allowance per hour, and whether
it is switched on. Registered by an administrator in the back office (*Settings → API clients*).
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

SCOPES = {
    "slots.read": "Read schedules and free slots",
    "appointments.write": "Book and cancel appointments for patients",
}


class ApiClient(models.Model):
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.PROTECT, related_name="api_client", editable=False
    )
    name = models.CharField(
        max_length=100, unique=True, help_text="Who this is, e.g. “Riverside referral portal”."
    )
    scopes = models.CharField(max_length=200, help_text="Space-separated: " + ", ".join(SCOPES))
    bookings_per_hour = models.PositiveIntegerField(
        default=200,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="Bookings this client may make per hour (its own allowance, not the public form's).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(bookings_per_hour__gte=1), name="api_client_allowance_positive"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split() if s in SCOPES]
