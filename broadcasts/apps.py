from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "broadcasts"
    label = "broadcasts"
    verbose_name = "Campaigns and broadcasts"

    def ready(self) -> None:
        from broadcasts import receivers

        receivers.connect()
