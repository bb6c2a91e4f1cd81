"""Re-encrypt every stored secret with the newest key of ENCRYPTION_KEYS, in every schema.

Finds every `EncryptedTextField` of every installed model, so secrets of other apps (Meta apps in
public, flow endpoint keys ...) rotate too. Each schema is one transaction and its rows are locked
while they are rewritten, so a concurrent save is never overwritten with an older value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django_tenants.utils import get_public_schema_name, schema_context

from platform_core.crypto import EncryptedTextField, SecretDecryptionError, rotate
from tenants.selectors import customer_tenants


@dataclass
class RotationReport:
    rotated: int = 0
    failed: list[str] = field(default_factory=list)  # "schema table.column pk" that no key decrypts


def encrypted_columns() -> list[tuple[type[models.Model], EncryptedTextField]]:
    return [
        (model, model_field)
        for model in apps.get_models()
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, EncryptedTextField)
    ]


def rotation_schemas() -> list[str]:
    """Public, the template schema new tenants are copied from, then every tenant."""
    tenants = list(customer_tenants().order_by("schema_name").values_list("schema_name", flat=True))
    return [get_public_schema_name(), settings.TENANT_BASE_SCHEMA, *tenants]


def secrets_rotate(*, progress: Callable[[str], None] = lambda line: None) -> RotationReport:
    report = RotationReport()
    columns = encrypted_columns()
    for schema in rotation_schemas():
        with schema_context(schema), transaction.atomic():
            tables = _tables_of(schema)
            for model, model_field in columns:
                table = model._meta.db_table
                pk_column, column = model._meta.pk.column, model_field.column
                if table not in tables or pk_column is None or column is None:  # concrete columns are set
                    continue
                count = _rotate_column(schema, table, pk_column, column, report)
                if count:
                    progress(f"{schema}: {table}.{model_field.column}: {count} re-encrypted")
                    report.rotated += count
    return report


def _tables_of(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def _rotate_column(schema: str, table: str, pk: str, column: str, report: RotationReport) -> int:
    quote = connection.ops.quote_name
    qualified, pk_q, column_q = f"{quote(schema)}.{quote(table)}", quote(pk), quote(column)
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk_q}, {column_q} FROM {qualified} WHERE {column_q} IS NOT NULL AND {column_q} <> '' FOR UPDATE"
        )
        for row_pk, ciphertext in cursor.fetchall():
            try:
                fresh = rotate(ciphertext)
            except SecretDecryptionError:
                report.failed.append(f"{schema} {table}.{column} pk={row_pk}")
                continue
            cursor.execute(f"UPDATE {qualified} SET {column_q} = %s WHERE {pk_q} = %s", [fresh, row_pk])
            count += 1
    return count
