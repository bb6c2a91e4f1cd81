from django.apps import AppConfig


class WabaConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "waba"
    verbose_name = "WhatsApp accounts"
