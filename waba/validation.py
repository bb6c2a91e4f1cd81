"""Field types and the one way input dicts become validated values with per-field 422 errors.

Used by the setup wizard steps, phone numbers and templates alike, so a WABA id or a phone number
is checked the same way wherever it enters. Error details never echo the input (it may be a secret).
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
)

from waba.errors import FieldsInvalid

META_ID_PATTERN = re.compile(r"^\d{1,64}$")
SECRET_PATTERN = re.compile(r"^\S{8,4096}$")


def _id_as_text(value: Any) -> Any:
    """Meta ids are numbers written as strings; accept either."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _meta_id(value: str) -> str:
    if not META_ID_PATTERN.match(value):
        raise ValueError("Must be a Meta id: digits only, as shown in Meta's Business Manager.")
    return value


def _secret(value: str) -> str:
    if not SECRET_PATTERN.match(value):
        raise ValueError("Must be 8 to 4096 characters without spaces (copy it from Meta as it is).")
    return value


def e164_normalize(value: str) -> str:
    """`+1 555-010-0001` -> `+15550100001`; raises ValueError for anything that is not a number."""
    try:
        parsed = phonenumbers.parse(value if value.strip().startswith("+") else "+" + value.strip(), None)
    except phonenumbers.NumberParseException:
        raise ValueError("Must be a phone number in international format, e.g. +15550100001.") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("Is not a possible phone number; use the international format, e.g. +15550100001.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def digits_of(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("Must be an IANA time zone such as Europe/Berlin or UTC.") from None
    return value


def _clock_time(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        hours, minutes = value.strip().split(":")
        if int(hours) < 24 and int(minutes) < 60:
            return time(int(hours), int(minutes))
    return value


MetaId = Annotated[str, BeforeValidator(_id_as_text), AfterValidator(_meta_id)]
SecretText = Annotated[str, BeforeValidator(_id_as_text), AfterValidator(_secret)]
PhoneNumberText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(e164_normalize)]
TimeZoneName = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_timezone)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]


class StrictInput(BaseModel):
    """Input models refuse unknown keys: a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


ModelT = TypeVar("ModelT", bound=BaseModel)


def fields_parse(model: type[ModelT], data: Any, *, prefix: str = "") -> ModelT:
    """`data` as `model`, or FieldsInvalid listing each bad field (`prefix.field`)."""
    if not isinstance(data, dict):
        raise FieldsInvalid(
            "The body must be a JSON object.",
            details=[{"field": prefix or "body", "message": "Must be a JSON object.", "type": "dict_type"}],
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FieldsInvalid("The request has invalid fields.", details=field_errors(error, prefix=prefix)) from None


def field_errors(error: ValidationError, *, prefix: str = "") -> list[dict]:
    details = []
    for item in error.errors(include_input=False, include_url=False):
        location = ".".join(str(part) for part in item.get("loc", ()))
        message = str(item.get("msg", ""))
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if item.get("type") == "extra_forbidden":
            message = "Unknown field."
        field = ".".join(part for part in (prefix, location) if part)
        details.append({"field": field, "message": message, "type": item.get("type", "")})
    return details
