from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from contacts.receivers import consent_from_meta_preferences
        from webhooks.signals import account_event_applied

        account_event_applied.connect(consent_from_meta_preferences, dispatch_uid="contacts.meta_preferences")
