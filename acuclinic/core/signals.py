from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import ServiceAlert
from .selectors import forget_cached_alerts


@receiver([post_save, post_delete], sender=ServiceAlert)
def alerts_changed(**kwargs):
    forget_cached_alerts()
