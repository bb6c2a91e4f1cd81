from django.apps import AppConfig


class FlowsBuilderConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "flows_builder"
    verbose_name = "WhatsApp Flows"

    def ready(self) -> None:
        from flows_builder import processors  # noqa: F401  (registers the built-in response processors)
        from flows_builder.receivers import flow_reply_on_inbound, flows_field_on_account_event
        from flows_builder.responses import is_flow_reply
        from messaging.signals import inbound_message_stored
        from webhooks.signals import account_event_applied

        inbound_message_stored.connect_when(
            flow_reply_on_inbound,
            when=lambda message, **named: is_flow_reply(message),
            dispatch_uid="flows_builder.inbound",
        )
        account_event_applied.connect(flows_field_on_account_event, dispatch_uid="flows_builder.flows_field")
