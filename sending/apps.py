from django.apps import AppConfig


class SendingConfig(AppConfig):
    """The send pipeline. Its models are the shared limiter state in the public schema; the label
    stays `ratelimit`, the name of its tables."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "sending"
    label = "ratelimit"
    verbose_name = "Sending (shared rate limiter state)"
