"""Typed values of the workspace's contact attributes: what a text written by a person or sent in
JSON becomes in Contact.attributes (text, number, ISO date, boolean, one of the choices)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from contacts.models import AttributeDefinition

TEXT_MAX = 1000
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}

Type = AttributeDefinition.Type


class AttributeValueInvalid(ValueError):
    pass


def attribute_value_clean(definition: AttributeDefinition, raw: Any) -> Any:
    """The stored form of `raw` for this attribute; None means "no value". AttributeValueInvalid says why not."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if definition.type == Type.TEXT:
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise AttributeValueInvalid("must be text")
        text = str(raw).strip()
        if len(text) > TEXT_MAX:
            raise AttributeValueInvalid(f"must be at most {TEXT_MAX} characters")
        return text
    if definition.type == Type.NUMBER:
        return _number(raw)
    if definition.type == Type.DATE:
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise AttributeValueInvalid("must be a date written YYYY-MM-DD") from None
    if definition.type == Type.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise AttributeValueInvalid("must be yes or no (true/false)")
    if definition.type == Type.CHOICE:
        text = str(raw).strip()
        if text not in definition.choices:
            raise AttributeValueInvalid(f"must be one of: {', '.join(definition.choices)}")
        return text
    raise AttributeValueInvalid(f"unknown attribute type {definition.type!r}")


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise AttributeValueInvalid("must be a number")
    if isinstance(raw, int):
        value: int | float = raw
    elif isinstance(raw, float):
        value = raw
    else:
        text = (
            str(raw).strip().replace(",", ".")
            if str(raw).count(",") == 1 and "." not in str(raw)
            else str(raw).strip()
        )
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise AttributeValueInvalid("must be a number") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AttributeValueInvalid("must be a finite number")
        if value.is_integer():
            value = int(value)
    if abs(value) > 2**53:
        raise AttributeValueInvalid("is too large")
    return value
