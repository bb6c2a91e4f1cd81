from django.apps import AppConfig


class BillingPlansConfig(AppConfig):
    """The public half of billing: plans, subscriptions, the rate card and statements (one copy for all tenants)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "billing.plans"
    label = "billing_plans"
    verbose_name = "Billing: plans and statements"
