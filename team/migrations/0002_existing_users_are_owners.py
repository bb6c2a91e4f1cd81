"""Users from before roles could do everything in their workspace: each becomes an owner, so nothing they
did is refused. Their admin flags are left as they were."""

from django.conf import settings
from django.db import migrations


def existing_users_owners(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Membership = apps.get_model("team", "Membership")
    Membership.objects.bulk_create(
        [Membership(user_id=pk, role="owner") for pk in User.objects.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("team", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(existing_users_owners, migrations.RunPython.noop)]
