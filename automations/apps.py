from django.apps import AppConfig


class MenusConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "automations"
    label = "menus"
    verbose_name = "Menus and conversation automation"

    def ready(self) -> None:
        from automations import actions  # noqa: F401  (registers the built-in actions and renderers)

        self._register_inbound_hook()

    @staticmethod
    def _register_inbound_hook() -> None:
        """Every newly stored inbound message goes through the automation engine once (issue 4's hook)."""
        try:
            from messaging.dispatch import on_inbound_message
        except ImportError:
            return
        from automations.workflows import automation_inbound_hook

        on_inbound_message(automation_inbound_hook)
