from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "acuclinic.scheduling"
    label = "scheduling"

    def ready(self):
        # The first booking steps are kept per process under the page cache's generation (booking_views.py):
        # a change of what they show (locations, rooms, practitioners, visit types) replaces the generation.
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from acuclinic.core import page_cache

        from .models import AppointmentType, Location, Practitioner, Room

        for model in (AppointmentType, Location, Practitioner, Room):
            uid = f"booking_steps_{model.__name__}"
            post_save.connect(page_cache.invalidate, sender=model, dispatch_uid=f"{uid}_save")
            post_delete.connect(page_cache.invalidate, sender=model, dispatch_uid=f"{uid}_delete")
        for through in (AppointmentType.practitioners.through, Practitioner.locations.through):
            m2m_changed.connect(
                page_cache.invalidate, sender=through, dispatch_uid=f"booking_steps_{through.__name__}"
            )
