from django.apps import AppConfig


class MenusConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "automations"
    label = "menus"
    verbose_name = "Menus and conversation automation"

    def ready(self) -> None:
        from automations import actions  # noqa: F401  (registers the built-in actions and renderers)
        from automations.flow_lookups import flow_exchange_lookup_answer
        from automations.receivers import (
            automation_on_inbound,
            call_reply_on_call,
            deferred_rows_on_batch_dispatched,
            flow_link_check,
        )
        from flows_builder.signals import flow_exchange_lookup, flow_link_checked
        from messaging.signals import call_event_recorded, inbound_batch_dispatched, inbound_message_stored

        inbound_message_stored.connect(automation_on_inbound, dispatch_uid="automations.inbound")
        inbound_batch_dispatched.connect(deferred_rows_on_batch_dispatched, dispatch_uid="automations.deferred_rows")
        call_event_recorded.connect(call_reply_on_call, dispatch_uid="automations.call_reply")
        flow_link_checked.connect(flow_link_check, dispatch_uid="automations.flow_link")
        flow_exchange_lookup.connect(flow_exchange_lookup_answer, dispatch_uid="automations.flow_lookup")
