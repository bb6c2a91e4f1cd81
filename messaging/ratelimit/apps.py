from django.apps import AppConfig


class RatelimitConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging.ratelimit"
    label = "ratelimit"
    verbose_name = "Shared send rate limiter state (public schema)"
