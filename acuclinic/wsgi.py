import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acuclinic.settings.production")

application = get_wsgi_application()

# Move everything loaded at start-up (Django, Wagtail, the URL and template machinery) out of the garbage
# collector's reach: a full collection otherwise walks all of it, and a request that allocates many objects
# (a 60-day slot search builds thousands) pays 200+ ms for it. Python documents gc.freeze() for pre-fork servers
# such as gunicorn; objects created afterwards are collected as usual. bench/slot_search.py measures the effect.
gc.collect()
gc.freeze()
