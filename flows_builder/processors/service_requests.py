"""The built-in flows' processors: Starlink and solar installations, solar panel cleaning.

Each response is read through a pydantic model (the `response_fields` of its flow definition):
types are coerced the way WhatsApp sends them (numbers as strings, dates as YYYY-MM-DD or, from
older DatePickers, epoch milliseconds), phone numbers normalised to E.164, enums checked against
the record's choices. A breach raises ResponseInvalid with one `{field, message}` per problem.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, TypeVar

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from flows_builder.models import CleaningRequest, FlowResponse, InstallationRequest, ServiceRequest, TimeSlot
from flows_builder.processors.registry import ProcessedRecord, ResponseInvalid, flow_processor
from waba.validation import PhoneNumberInvalid, phone_number_normalise

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_PANEL_COUNT = 10_000
NOTES_MAX_CHARS = 2_000


class ServiceRequestIn(BaseModel):
    """Customer, schedule and address answers shared by every service flow."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=200)
    phone: str
    email: str = ""
    preferred_date: date
    time_slot: TimeSlot
    street: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(default="", max_length=20)
    notes: str = Field(default="", max_length=NOTES_MAX_CHARS)

    @field_validator("email", "postal_code", "notes", mode="before")
    @classmethod
    def _absent_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str, info: ValidationInfo) -> str:
        try:
            return phone_number_normalise(value, region=(info.context or {}).get("region"))
        except PhoneNumberInvalid:
            raise ValueError("not a valid phone number (include the country code)") from None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value:
            try:
                validate_email(value)
            except DjangoValidationError:
                raise ValueError("not a valid email address") from None
        return value.lower()

    @field_validator("preferred_date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC).date()  # epoch milliseconds
        return value

    def record_fields(self) -> dict[str, Any]:
        return {
            "customer_name": self.full_name,
            "customer_phone": self.phone,
            "customer_email": self.email,
            "preferred_date": self.preferred_date,
            "time_slot": self.time_slot,
            "street": self.street,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "notes": self.notes,
        }


class StarlinkInstallationIn(ServiceRequestIn):
    kit_type: InstallationRequest.KitType
    mount_location: InstallationRequest.MountLocation


class SolarInstallationIn(ServiceRequestIn):
    installation_type: InstallationRequest.InstallationType
    order_number: str = Field(min_length=1, max_length=64)


class SolarCleaningIn(ServiceRequestIn):
    roof_type: CleaningRequest.RoofType
    panel_type: CleaningRequest.PanelType
    panel_count: int = Field(ge=1, le=MAX_PANEL_COUNT)


@flow_processor("starlink_installation")
def starlink_installation(response: FlowResponse) -> ProcessedRecord:
    answers = _read(StarlinkInstallationIn, response)
    record = InstallationRequest(
        kind=InstallationRequest.Kind.STARLINK,
        kit_type=answers.kit_type,
        mount_location=answers.mount_location,
        **answers.record_fields(),
    )
    return _save(record, response)


@flow_processor("solar_installation")
def solar_installation(response: FlowResponse) -> ProcessedRecord:
    answers = _read(SolarInstallationIn, response)
    record = InstallationRequest(
        kind=InstallationRequest.Kind.SOLAR_INSTALLATION,
        installation_type=answers.installation_type,
        order_number=answers.order_number,
        **answers.record_fields(),
    )
    return _save(record, response)


@flow_processor("solar_panel_cleaning")
def solar_panel_cleaning(response: FlowResponse) -> ProcessedRecord:
    answers = _read(SolarCleaningIn, response)
    record = CleaningRequest(
        roof_type=answers.roof_type,
        panel_type=answers.panel_type,
        panel_count=answers.panel_count,
        **answers.record_fields(),
    )
    return _save(record, response)


def _read(schema: type[ModelT], response: FlowResponse) -> ModelT:
    """Validate the answers; a phone number without country code is read in the contact's country."""
    try:
        return schema.model_validate(response.response_data, context={"region": _contact_region(response)})
    except ValidationError as exc:
        # loc and msg only: pydantic's `input` would copy customer data into the notes twice.
        raise ResponseInvalid(
            [
                {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
                for error in exc.errors()
            ]
        ) from None


def _contact_region(response: FlowResponse) -> str | None:
    if response.contact is None:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse("+" + response.contact.wa_id, None))
    except phonenumbers.NumberParseException:
        return None


def _save(record: ServiceRequest, response: FlowResponse) -> ProcessedRecord:
    record.contact = response.contact
    record.flow_response = response
    try:
        record.full_clean()
    except DjangoValidationError as exc:
        raise ResponseInvalid(
            [{"field": field, "message": " ".join(messages)} for field, messages in exc.message_dict.items()]
        ) from None
    record.save()
    return ProcessedRecord.of(record)
