"""Named validators for free-text answers: a workflow step says `"validator": "positive_integer"`.

Each takes the customer's text and returns the value to keep in the conversation's context
(JSON-serialisable), or raises InputInvalid with a message that tells the customer what to send.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from automations.errors import InputInvalid
from waba import meta
from waba.validation import PhoneNumberInvalid, phone_number_normalise

InputValidator = Callable[[str], Any]

VALIDATORS: dict[str, InputValidator] = {}

# Largest whole number accepted: order ids and quantities fit, typos such as a pasted card number do not.
POSITIVE_INTEGER_MAX = 10**9
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")


def input_validator(name: str) -> Callable[[InputValidator], InputValidator]:
    def register(func: InputValidator) -> InputValidator:
        VALIDATORS[name] = func
        return func

    return register


def input_validate(name: str, text: str) -> Any:
    """Run validator `name` on `text`. Raises InputInvalid; KeyError for an unknown name."""
    return VALIDATORS[name](text or "")


@input_validator("any_text")
def any_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InputInvalid("Please write a few words.")
    if len(cleaned) > meta.TEXT_MESSAGE_MAX_CHARS:
        raise InputInvalid(f"Please keep it under {meta.TEXT_MESSAGE_MAX_CHARS} characters.")
    return cleaned


@input_validator("positive_integer")
def positive_integer(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not re.fullmatch(r"\d{1,10}", cleaned) or not 0 < int(cleaned) <= POSITIVE_INTEGER_MAX:
        raise InputInvalid("Please send a whole number greater than 0, for example 2.")
    return int(cleaned)


@input_validator("order_number")
def order_number(text: str) -> str:
    """An order number as customers write it ("ORD-1234", "ord 1234", "#1234", "1234") as stored: "ORD-1234"."""
    found = re.fullmatch(r"\s*(?:ord\s*-?\s*)?#?\s*(\d{1,10})\s*[.!?]*\s*", text, flags=re.IGNORECASE)
    if found is None or int(found.group(1)) == 0:
        raise InputInvalid("Please send the order number, for example ORD-1234.")
    return f"ORD-{int(found.group(1))}"


@input_validator("date")
def date_value(text: str) -> str:
    cleaned = text.strip()
    for pattern in DATE_FORMATS:
        try:
            parsed: date = datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
        return parsed.isoformat()
    raise InputInvalid("Please send a date such as 2025-06-30 or 30/06/2025.")


@input_validator("email")
def email(text: str) -> str:
    cleaned = text.strip()
    try:
        validate_email(cleaned)
    except ValidationError:
        raise InputInvalid("Please send an email address such as name@example.com.") from None
    return cleaned.lower()


@input_validator("phone_number")
def phone_number(text: str) -> str:
    """An international number, answered in E.164 (+4915112345678): the rule recipients follow."""
    try:
        return phone_number_normalise(text, possible_only=True)
    except PhoneNumberInvalid:
        raise InputInvalid("Please send a phone number with its country code, for example +4915112345678.") from None
