"""The tour-inquiry Flow's processor: a travel customer's answers become a TourInquiry.

The answers are read like the service flows' (flows_builder.processors.service_requests): customer
details validated and the phone normalised to E.164, dates as YYYY-MM-DD or epoch milliseconds, the
tour and budget checked against the record's choices. A breach raises ResponseInvalid.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from flows_builder.models import FlowResponse, TourInquiry
from flows_builder.processors.registry import ProcessedRecord, flow_processor
from flows_builder.processors.service_requests import (
    NOTES_MAX_CHARS,
    CustomerIn,
    contact_region,
    epoch_millis_or_value,
    record_save,
    validated,
)
from messaging.models import Contact

TOUR_INQUIRY = "tour_inquiry"
MAX_TRAVELLERS = 50


class TourInquiryIn(CustomerIn):
    tour: TourInquiry.Tour
    departure_date: date
    return_date: date
    travellers: int = Field(ge=1, le=MAX_TRAVELLERS)
    budget: TourInquiry.Budget
    notes: str = Field(default="", max_length=NOTES_MAX_CHARS)

    @field_validator("departure_date", "return_date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return epoch_millis_or_value(value)

    @field_validator("notes", mode="before")
    @classmethod
    def _absent_notes(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("return_date")
    @classmethod
    def _return_after_departure(cls, value: date, info: ValidationInfo) -> date:
        departure = info.data.get("departure_date")
        if departure is not None and value < departure:
            raise ValueError("the return date is before the departure date")
        return value


def tour_inquiry_create(
    *, answers: Mapping[str, Any], contact: Contact | None, flow_response: FlowResponse | None = None
) -> TourInquiry:
    """Validate the tour-inquiry Flow's answers and save the inquiry: from the Flow's response
    (`flow_response` set) or from its conversational flow. Raises ResponseInvalid."""
    answers_in = validated(TourInquiryIn, answers, region=contact_region(contact))
    inquiry = TourInquiry(
        customer_name=answers_in.full_name,
        customer_phone=answers_in.phone,
        customer_email=answers_in.email,
        tour=answers_in.tour,
        departure_date=answers_in.departure_date,
        return_date=answers_in.return_date,
        travellers=answers_in.travellers,
        budget=answers_in.budget,
        notes=answers_in.notes,
    )
    return record_save(inquiry, contact=contact, flow_response=flow_response)


@flow_processor(TOUR_INQUIRY)
def tour_inquiry(response: FlowResponse) -> ProcessedRecord:
    inquiry = tour_inquiry_create(answers=response.response_data, contact=response.contact, flow_response=response)
    return ProcessedRecord.of(inquiry)
