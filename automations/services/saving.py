"""Saving rows whose name is unique: a clash answers 409 `name_taken`, not a database error."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction

from automations.errors import NameTaken


def unique_name_save(obj: models.Model, *, field: str, what: str) -> None:
    """Save `obj` in a savepoint; a clash on its unique `field` raises NameTaken and leaves the
    caller's transaction usable."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise NameTaken(f"A {what} named {getattr(obj, field)!r} already exists.",
                        details=[{"field": field, "message": "already taken"}]) from None
