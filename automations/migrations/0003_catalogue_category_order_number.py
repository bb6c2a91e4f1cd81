from django.db import migrations, models
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat


def number_existing_orders(apps, schema_editor):
    """Orders placed before numbers existed keep the number customers knew them by: ORD-<id>."""
    Order = apps.get_model("menus", "Order")
    Order.objects.filter(number__isnull=True).update(
        number=Concat(Value("ORD-"), Cast("id", output_field=CharField())))


class Migration(migrations.Migration):

    dependencies = [
        ("menus", "0002_automated_reply_plural"),
    ]

    operations = [
        migrations.AddField(
            model_name="catalogueitem",
            name="category",
            field=models.CharField(blank=True, default="", max_length=24),
        ),
        migrations.AddField(
            model_name="order",
            name="number",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.RunPython(number_existing_orders, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="order",
            name="number",
            field=models.CharField(editable=False, max_length=16, unique=True),
        ),
    ]
