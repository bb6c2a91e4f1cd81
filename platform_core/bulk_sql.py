"""Set-based INSERTs of model rows that the ORM's `bulk_create` cannot express.

`bulk_create(ignore_conflicts=True)` does not say which rows it inserted; the webhook worker must
know (a message is dispatched once, by whoever inserted it). `rows_insert_returning` writes the
rows the way the ORM would and returns what PostgreSQL's `RETURNING` gives for the inserted ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models


def column(model: type[models.Model], name: str) -> str:
    """The quoted column of field `name`."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, name
    return connection.ops.quote_name(field.column)


def defaults_sql(model: type[models.Model], exclude: set[str], now: datetime) -> tuple[str, str, list[Any]]:
    """For an INSERT ... SELECT: the columns of `model` not in `exclude` that the database cannot
    fill itself, and their values as the ORM would give them (defaults, `now` for auto times)."""
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.name in exclude or field.primary_key or field.db_default is not models.NOT_PROVIDED:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value: Any = now
        elif field.has_default():
            value = field.get_db_prep_save(field.get_default(), connection)
        elif field.null:
            continue
        else:
            raise ValueError(f"{model.__name__}.{field.name} has no default to insert")
        columns.append(f", {column(model, field.name)}")
        values.append(", %s")
        params.append(value)
    return "".join(columns), "".join(values), params


def rows_insert_returning(
    *,
    model: type[models.Model],
    objects: Sequence[models.Model],
    conflict: str,
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """INSERT `objects` in one statement, skipping rows that hit `conflict` (a column list such as
    "(wamid)"); returns the `returning` columns of the rows actually inserted, in no set order.

    Every concrete field but an unset primary key is written as the ORM would save it (`pre_save`
    fills auto_now fields). Rows that conflict with each other: the first is inserted.
    """
    if not objects:
        return []
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and getattr(objects[0], field.attname) is None)
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields if field.column)
    rows = [[field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields] for obj in objects]
    if all(_unnestable(field) for field in fields):
        # One array per column: the statement's text and its parameters stay the same size
        # whatever the number of rows, which the driver and the planner handle much faster.
        arrays = ", ".join(f"%s::{str(field.db_type(connection)).split('(')[0]}[]" for field in fields)
        rows_sql, params = f"SELECT * FROM unnest({arrays})", [list(values) for values in zip(*rows, strict=True)]
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        rows_sql, params = f"VALUES {', '.join([row] * len(objects))}", [value for values in rows for value in values]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) {rows_sql} "
            f"ON CONFLICT {conflict} DO NOTHING RETURNING {', '.join(column(model, name) for name in returning)}",
            params,
        )
        return list(cursor.fetchall())


def _unnestable(field: models.Field) -> bool:
    """A column whose values can travel as one typed array (not an array or a custom type)."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    return target.get_internal_type() in connection.data_types and not hasattr(field, "get_placeholder")
