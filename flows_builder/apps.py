from django.apps import AppConfig


class FlowsBuilderConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "flows_builder"
    verbose_name = "WhatsApp Flows"

    def ready(self) -> None:
        from flows_builder import processors  # noqa: F401  (registers the built-in response processors)

        self._register_inbound_hook()
        self._register_flows_webhook_hook()

    @staticmethod
    def _register_inbound_hook() -> None:
        """Hand every stored inbound message to `handle_inbound_nfm_reply` (it keeps flow replies only).

        The dispatch point is messaging.dispatch (issue 4); a build without it simply has no hook.
        """
        try:
            from messaging.dispatch import on_inbound_message
        except ImportError:
            return
        from flows_builder.responses import handle_inbound_nfm_reply

        on_inbound_message(handle_inbound_nfm_reply)

    @staticmethod
    def _register_flows_webhook_hook() -> None:
        """Hand the `flows` webhook field (flow status changes) to `flows_webhook_apply`."""
        try:
            from messaging.dispatch import on_account_event
        except ImportError:
            return
        from flows_builder.sync import flows_webhook_apply

        on_account_event("flows", flows_webhook_apply)
