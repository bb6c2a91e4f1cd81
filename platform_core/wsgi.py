import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_core.settings")

from webhooks.wsgi import webhooks_fast_path  # noqa: E402  (needs Django set up)

# Meta's webhook POSTs skip the middleware stack (see webhooks.wsgi); all else is plain Django.
application = webhooks_fast_path(get_wsgi_application())
