"""Encryption at rest for secrets (Meta access tokens, app secrets, private keys).

MultiFernet over ENCRYPTION_KEYS (newest first): values are encrypted with the
newest key and decrypt with any listed key, so keys rotate by adding a new key in
front, running `manage.py rotate_secrets`, then removing the old one.

Model fields hand out `Secret` objects rather than strings: their repr and str
are masked, so a secret that reaches a log line, an exception or a template
shows up as `Secret('…1234')`. Code that really needs the value calls `.reveal()`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.expressions import Combinable


class SecretDecryptionError(RuntimeError):
    """A stored secret does not decrypt with any key in ENCRYPTION_KEYS."""


@functools.lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _cipher() -> MultiFernet:
    return _multifernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _cipher().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _cipher().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretDecryptionError(
            "A stored secret does not decrypt with any key in ENCRYPTION_KEYS: was a key removed before "
            "`manage.py rotate_secrets` ran?"
        ) from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the newest key (decrypts with any listed key)."""
    try:
        return _cipher().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretDecryptionError(
            "A stored secret does not decrypt with any key in ENCRYPTION_KEYS."
        ) from None


class Secret:
    """A secret value that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def last4(self) -> str:
        return self._value[-4:] if len(self._value) >= 8 else ""

    def summary(self) -> dict:
        """What an API may show about a secret: that it is set, and its last four characters."""
        return {"set": bool(self._value), "last4": self.last4}

    def __repr__(self) -> str:
        return f"Secret('…{self.last4}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; reads back as `Secret` (or None). Assign a str or a Secret."""

    # What django-stubs' plugin types model attributes of this field as (annotations only); they
    # replace TextField's str, as django-stubs' own NullBooleanField does, hence the ignores.
    _pyi_private_set_type: str | Secret | Combinable | None  # type: ignore[assignment]
    _pyi_private_get_type: Secret | None  # type: ignore[assignment]

    def from_db_value(self, value: str | None, expression: Any, connection: BaseDatabaseWrapper) -> Secret | None:
        if value is None or value == "":
            return None
        return Secret(decrypt(value))

    def to_python(self, value: Any) -> Secret | None:
        if value is None or isinstance(value, Secret):
            return value
        if value == "":
            return None
        return Secret(value)

    def get_prep_value(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        plaintext = value.reveal() if isinstance(value, Secret) else str(value)
        return encrypt(plaintext)

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisation (dumpdata, admin history) never sees the clear value.
        return "<encrypted>"

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        return name, path, args, kwargs


# --- data migrations that move a clear text column to EncryptedTextField --------------------------


def column_values_encrypt(schema_editor: Any, *, table: str, column: str) -> None:
    """Encrypt every clear value of the column (empty becomes NULL; ciphertext is left as it is)."""
    _column_rewrite(schema_editor, table, column, _value_encrypted)


def column_values_decrypt(schema_editor: Any, *, table: str, column: str) -> None:
    """The reverse: every value back to clear text (NULL becomes empty)."""
    _column_rewrite(schema_editor, table, column, lambda value: decrypt(value) if value else "")


def _value_encrypted(value: str | None) -> str | None:
    if not value:
        return None
    try:
        decrypt(value)
    except SecretDecryptionError:
        return encrypt(value)
    return value


def _column_rewrite(schema_editor: Any, table: str, column: str, change: Any) -> None:
    """Apply `change` to every value of the column, in the schema being migrated."""
    quote = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {quote(column)} FROM {quote(table)}")
        for row_id, value in cursor.fetchall():
            new = change(value)
            if new != value:
                cursor.execute(f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s", [new, row_id])
