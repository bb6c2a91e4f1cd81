from django.apps import AppConfig


class TenantsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tenants"
    verbose_name = "Tenants and API keys"

    def ready(self) -> None:
        from django_q.signals import post_execute

        from tenants.receivers import schedule_run_count

        post_execute.connect(schedule_run_count, dispatch_uid="tenants.schedule_run_count")
