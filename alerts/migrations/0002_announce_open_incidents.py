"""A workspace with incidents open before the sweep followed the work-pending index announces ALERTS
work, so the sweep (alerts.sweep) visits it until they resolve."""

from django.db import migrations
from django_tenants.utils import get_public_schema_name


def announce_open_incidents(apps, schema_editor):
    schema = schema_editor.connection.schema_name
    if not schema or schema == get_public_schema_name():
        return
    if not apps.get_model("alerts", "Incident").objects.filter(resolved_at__isnull=True).exists():
        return
    from tenants.work_pending import WorkKind, work_announce

    work_announce(kind=WorkKind.ALERTS, schema_name=schema)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]

    operations = [migrations.RunPython(announce_open_incidents, migrations.RunPython.noop)]
