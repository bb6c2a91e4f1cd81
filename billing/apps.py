from django.apps import AppConfig


class BillingConfig(AppConfig):
    """The tenant half of billing: metering and live usage (plans and statements are in billing.plans)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"

    def ready(self) -> None:
        from billing import receivers
        from billing.limits import billing_usage_check
        from platform_core.usage_limits import usage_limit_register

        usage_limit_register(billing_usage_check)
        receivers.connect()
