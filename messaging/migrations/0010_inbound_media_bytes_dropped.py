from django.db import migrations


class Migration(migrations.Migration):
    """Separate from 0009, whose data step writes rows: PostgreSQL refuses to alter a table with
    pending trigger events in the same transaction."""

    dependencies = [
        ('messaging', '0009_inbound_media_kept'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='messagemedia',
            name='content',
        ),
    ]
