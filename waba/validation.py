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


class PhoneNumberInvalid(ValueError):
    """`readable` is False when the text could not even be read as a phone number."""

    def __init__(self, message: str, *, readable: bool) -> None:
        super().__init__(message)
        self.readable = readable


def phone_number_normalise(value: str, *, region: str | None = None, possible_only: bool = False) -> str:
    """The E.164 form (`+4915112345678`) of a phone number written by a person, or PhoneNumberInvalid.

    `+49 151 ...`, `0049 151 ...` and `49 151 ...` are all read with their country code; a number
    without one is read as a national number of `region` when given. A number must be valid,
    i.e. assigned; `possible_only` accepts any number of a possible length instead, because Meta's
    own test business numbers (+1 555 01xx) are not assigned yet work on the Cloud API.
    """
    text = (value or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+") and not region:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise PhoneNumberInvalid("not a phone number", readable=False) from None
    usable = phonenumbers.is_possible_number if possible_only else phonenumbers.is_valid_number
    if not usable(number):
        raise PhoneNumberInvalid("not a valid phone number", readable=True)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _business_phone_number(value: str) -> str:
    """A number of the business itself (Meta's test numbers included), as E.164."""
    try:
        return phone_number_normalise(value, possible_only=True)
    except PhoneNumberInvalid as invalid:
        if invalid.readable:
            raise ValueError("Is not a possible phone number; use the international format, e.g. +15550100001.") from None
        raise ValueError("Must be a phone number in international format, e.g. +15550100001.") from None


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
PhoneNumberText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(_business_phone_number)]
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
