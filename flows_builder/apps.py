from django.apps import AppConfig


class FlowsBuilderConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "flows_builder"
