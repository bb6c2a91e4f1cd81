from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    label = "webhooks"
    verbose_name = "Webhook journal and dead letters (public schema)"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from tenants.models import MetaApp
        from tenants.signals import tenant_resumed
        from webhooks.receivers import dead_letters_replay_on_resume, meta_app_changed

        post_save.connect(meta_app_changed, sender=MetaApp, dispatch_uid="webhooks.meta_app_saved")
        post_delete.connect(meta_app_changed, sender=MetaApp, dispatch_uid="webhooks.meta_app_deleted")
        tenant_resumed.connect(dead_letters_replay_on_resume, dispatch_uid="webhooks.dead_letters_on_resume")
