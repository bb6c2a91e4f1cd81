"""The built-in flows' processors: Starlink and solar installations, solar panel cleaning.

Each response is read through a pydantic model (the `response_fields` of its flow definition):
types are coerced the way WhatsApp sends them (numbers as strings, dates as YYYY-MM-DD or, from
older DatePickers, epoch milliseconds), phone numbers normalised to E.164, enums checked against
the record's choices. A breach raises ResponseInvalid with one `{field, message}` per problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from flows_builder.models import (
    CleaningRequest,
    FlowResponse,
    InstallationRequest,
    ServiceRequest,
    TimeSlot,
    TourInquiry,
)
from flows_builder.processors.registry import ProcessedRecord, ResponseInvalid, flow_processor
from messaging.models import Contact
from waba.validation import PhoneNumberInvalid, phone_number_normalise

ModelT = TypeVar("ModelT", bound=BaseModel)
RecordT = TypeVar("RecordT", bound=ServiceRequest | TourInquiry)

MAX_PANEL_COUNT = 10_000
NOTES_MAX_CHARS = 2_000


class CustomerIn(BaseModel):
    """The customer's name, phone and email, as every built-in flow asks them."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=200)
    phone: str
    email: str = ""

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

    @field_validator("email", mode="before")
    @classmethod
    def _absent_email(cls, value: Any) -> Any:
        return "" if value is None else value


class ServiceRequestIn(CustomerIn):
    """Customer, schedule and address answers shared by every service flow."""

    preferred_date: date
    time_slot: TimeSlot
    street: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(default="", max_length=20)
    notes: str = Field(default="", max_length=NOTES_MAX_CHARS)

    @field_validator("postal_code", "notes", mode="before")
    @classmethod
    def _absent_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("preferred_date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return epoch_millis_or_value(value)

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


def service_request_create(
    *,
    flow_name: str,
    answers: Mapping[str, Any],
    contact: Contact | None,
    flow_response: FlowResponse | None = None,
) -> ServiceRequest:
    """Validate `answers` (the `response_fields` of built-in flow `flow_name`) and save the request.

    The one way a Starlink or solar installation or a cleaning request is created: from a Flow's
    response (`flow_response` set) or from a conversational flow's answers. Raises ResponseInvalid;
    KeyError for a flow without a service request.
    """
    region = contact_region(contact)
    record: ServiceRequest
    if flow_name == "starlink_installation":
        starlink = validated(StarlinkInstallationIn, answers, region=region)
        record = InstallationRequest(kind=InstallationRequest.Kind.STARLINK, kit_type=starlink.kit_type,
                                     mount_location=starlink.mount_location, **starlink.record_fields())
    elif flow_name == "solar_installation":
        solar = validated(SolarInstallationIn, answers, region=region)
        record = InstallationRequest(kind=InstallationRequest.Kind.SOLAR_INSTALLATION,
                                     installation_type=solar.installation_type, order_number=solar.order_number,
                                     **solar.record_fields())
    elif flow_name == "solar_panel_cleaning":
        cleaning = validated(SolarCleaningIn, answers, region=region)
        record = CleaningRequest(roof_type=cleaning.roof_type, panel_type=cleaning.panel_type,
                                 panel_count=cleaning.panel_count, **cleaning.record_fields())
    else:
        raise KeyError(flow_name)
    return record_save(record, contact=contact, flow_response=flow_response)


def _from_response(response: FlowResponse) -> ProcessedRecord:
    record = service_request_create(flow_name=response.flow_name, answers=response.response_data,
                                    contact=response.contact, flow_response=response)
    return ProcessedRecord.of(record)


@flow_processor("starlink_installation")
def starlink_installation(response: FlowResponse) -> ProcessedRecord:
    return _from_response(response)


@flow_processor("solar_installation")
def solar_installation(response: FlowResponse) -> ProcessedRecord:
    return _from_response(response)


@flow_processor("solar_panel_cleaning")
def solar_panel_cleaning(response: FlowResponse) -> ProcessedRecord:
    return _from_response(response)


def validated(schema: type[ModelT], answers: Mapping[str, Any], *, region: str | None) -> ModelT:
    """Validate the answers; a phone number without country code is read in the contact's country."""
    try:
        return schema.model_validate(answers, context={"region": region})
    except ValidationError as exc:
        # loc and msg only: pydantic's `input` would copy customer data into the notes twice.
        raise ResponseInvalid(
            [
                {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
                for error in exc.errors()
            ]
        ) from None


def epoch_millis_or_value(value: Any) -> Any:
    """A DatePicker answer: older clients send epoch milliseconds, newer ones YYYY-MM-DD (left as is)."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC).date()
    return value


def contact_region(contact: Contact | None) -> str | None:
    if contact is None:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse("+" + contact.wa_id, None))
    except phonenumbers.NumberParseException:
        return None


def record_save(record: RecordT, *, contact: Contact | None, flow_response: FlowResponse | None) -> RecordT:
    """Attach the contact and the response, check the model's rules (ResponseInvalid) and save."""
    record.contact = contact
    record.flow_response = flow_response
    try:
        record.full_clean()
    except DjangoValidationError as exc:
        raise ResponseInvalid(
            [{"field": field, "message": " ".join(messages)} for field, messages in exc.message_dict.items()]
        ) from None
    record.save()
    return record
