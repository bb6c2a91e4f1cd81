"""`manage.py rotate_secrets`: re-encrypt every stored secret with the newest ENCRYPTION_KEYS key.

Rotate keys by putting a new key first in ENCRYPTION_KEYS (keep the old ones after it), restart,
run this command, then remove the old keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from waba.services.rotation import encrypted_columns, rotation_schemas, secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt every EncryptedTextField value, in the public schema and every tenant schema, with the newest key."

    def handle(self, *args: Any, **options: Any) -> None:
        schemas = rotation_schemas()
        columns = encrypted_columns()
        self.stdout.write(f"Rotating {len(columns)} encrypted column(s) across {len(schemas)} schema(s)...")
        report = secrets_rotate(progress=self.stdout.write)
        for failure in report.failed:
            self.stderr.write(f"  does not decrypt with any key: {failure}")
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} value(s) decrypt with no key in ENCRYPTION_KEYS and were left as they are; "
                f"{report.rotated} other value(s) were re-encrypted. Restore the missing key and run again."
            )
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {report.rotated} secret(s) with the newest key."))
