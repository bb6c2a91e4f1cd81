from django.db import migrations

from billing.plans.rates import rate_card_load


def load(apps, schema_editor):
    rate_card_load(model=apps.get_model("billing_plans", "RateCardEntry"))


class Migration(migrations.Migration):
    dependencies = [("billing_plans", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
