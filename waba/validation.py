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
    """Why a text is not a usable phone number.

    `reason` is a stable word for machines (`not_a_number`, `unknown_country_code`, `too_short`,
    `too_long`, `invalid_length`, `not_assigned`); the message says the same for people.
    `readable` is False when the text could not even be read as a phone number.
    """

    def __init__(self, message: str, *, readable: bool, reason: str = "") -> None:
        super().__init__(message)
        self.readable = readable
        self.reason = reason or ("not_a_number" if not readable else "not_assigned")


_PARSE_FAILURES = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: ("unknown_country_code", "no known country code"),
    phonenumbers.NumberParseException.NOT_A_NUMBER: ("not_a_number", "not a phone number"),
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: ("too_short", "too short to be a phone number"),
    phonenumbers.NumberParseException.TOO_SHORT_NSN: ("too_short", "too short to be a phone number"),
    phonenumbers.NumberParseException.TOO_LONG: ("too_long", "too long to be a phone number"),
}
_IMPOSSIBLE = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: ("unknown_country_code", "no known country code"),
    phonenumbers.ValidationResult.TOO_SHORT: ("too_short", "too short for its country code"),
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: ("too_short", "too short for its country code (is the area code missing?)"),
    phonenumbers.ValidationResult.TOO_LONG: ("too_long", "too long for its country code"),
    phonenumbers.ValidationResult.INVALID_LENGTH: ("invalid_length", "not a possible length for its country code"),
}


def phone_number_normalise(value: str, *, region: str | None = None, possible_only: bool = False) -> str:
    """The E.164 form (`+4915112345678`) of a phone number written by a person, or PhoneNumberInvalid.

    `+49 151 ...`, `0049 151 ...` and `49 151 ...` are all read with their country code; a number
    without one is read as a national number of `region` when given. A number must be valid,
    i.e. assigned; `possible_only` accepts any complete number of a possible length for its
    country instead, because numbers libphonenumber does not know as assigned (Meta's test
    numbers +1 555 01xx, newly opened ranges) still work on WhatsApp.
    """
    text = (value or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+") and not region:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as error:
        reason, message = _PARSE_FAILURES.get(error.error_type, ("not_a_number", "not a phone number"))
        raise PhoneNumberInvalid(message, readable=False, reason=reason) from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        reason, message = _IMPOSSIBLE.get(possible, ("invalid_length", "not a possible phone number"))
        raise PhoneNumberInvalid(message, readable=True, reason=reason)
    if not possible_only and not phonenumbers.is_valid_number(number):
        raise PhoneNumberInvalid("not an assigned phone number", readable=True, reason="not_assigned")
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
