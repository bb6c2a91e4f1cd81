import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0006_webhook_event_log"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="assigned_to",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="assigned_conversations",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        # The tenant's own auth_user (first on the search path); the database clears the assignment.
        migrations.RunSQL(
            sql="ALTER TABLE messaging_conversation ADD CONSTRAINT messaging_conversation_assigned_to_fk "
            "FOREIGN KEY (assigned_to_id) REFERENCES auth_user (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED",
            reverse_sql="ALTER TABLE messaging_conversation DROP CONSTRAINT messaging_conversation_assigned_to_fk",
        ),
    ]
