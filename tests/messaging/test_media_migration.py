"""The migration that moves media bytes kept in the database into file storage, on a tenant schema with a row.

The test's transaction is rolled back as always, the schema changes with it (PostgreSQL's DDL is transactional).
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context

from messaging.models import MessageMedia
from tests.messaging.factories import ConversationFactory, MessageFactory

BEFORE = [("messaging", "0008_contact_profile")]
MOVED = [("messaging", "0009_inbound_media_kept")]
AFTER = [("messaging", "0010_inbound_media_bytes_dropped")]


def _constraints_checked_now() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_bytes_in_the_database_move_to_storage_under_the_schema(number_a, tenant_a, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    with schema_context(tenant_a.schema_name):
        message = MessageFactory(conversation=ConversationFactory(phone_number=number_a), type="image",
                                 content={"media_id": "5", "mime_type": "image/png"})  # fmt: skip
        old_apps = _migrate(BEFORE)
        old_apps.get_model("messaging", "MessageMedia").objects.create(
            message_id=message.pk, mime_type="image/png", size=8, sha256="ab" * 32, content=b"\x89PNG0001"
        )
        _constraints_checked_now()  # as a commit would: each migration runs in a transaction of its own

        _migrate(MOVED)
        _constraints_checked_now()
        _migrate(AFTER)

        media = MessageMedia.objects.get(pk=message.pk)
        assert (media.state, media.mime_type, media.size) == ("stored", "image/png", 8)
        assert media.file.name == f"{tenant_a.schema_name}/inbound-media/{message.pk}-{'ab' * 8}.png"
        with default_storage.open(media.file.name, "rb") as stored:
            assert stored.read() == b"\x89PNG0001"
