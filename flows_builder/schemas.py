"""Input and output schemas of the flows API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

from flows_builder.models import WhatsAppFlow
from platform_core.api import RowId


class FlowIn(Schema):
    account_id: RowId
    name: str = Field(description="Stable identifier: lowercase letters, digits, underscores.")
    friendly_name: str = ""
    description: str = ""
    categories: list[str] = Field(default_factory=lambda: ["OTHER"])
    flow_json: dict[str, Any]
    flow_definition_name: str | None = None
    trigger_keywords: list[str] = Field(default_factory=list)
    is_active: bool = True
    endpoint_enabled: bool = False
    endpoint_phone_number_id: str | None = Field(
        None, description="Meta phone_number_id serving the endpoint."
    )


class FlowPatch(Schema):
    friendly_name: str | None = None
    description: str | None = None
    categories: list[str] | None = None
    flow_json: dict[str, Any] | None = None
    flow_definition_name: str | None = None
    trigger_keywords: list[str] | None = None
    is_active: bool | None = None
    endpoint_enabled: bool | None = None
    endpoint_phone_number_id: str | None = None


class FlowOut(Schema):
    id: int
    account_id: int
    name: str
    friendly_name: str
    description: str
    categories: list[str]
    flow_definition_name: str | None
    trigger_keywords: list[str]
    is_active: bool
    endpoint_enabled: bool
    endpoint_phone_number_id: str | None
    first_screen: str | None
    meta_flow_id: str
    meta_status: str
    version: int
    superseded_meta_flow_ids: list[str]
    sync_status: str
    last_sync_error: str
    validation_errors: list[dict[str, Any]]
    json_changed: bool
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_endpoint_phone_number_id(flow: WhatsAppFlow) -> str | None:
        number = flow.endpoint_phone_number
        return number.phone_number_id if number else None


class FlowDetailOut(FlowOut):
    flow_json: dict[str, Any]


class FlowSyncIn(Schema):
    publish: bool = False
    force: bool = False


class FlowSyncOut(Schema):
    result: str
    created: bool
    new_version: bool
    uploaded: bool
    published: bool
    flow: FlowDetailOut


class FlowValidateIn(Schema):
    flow_json: dict[str, Any] | str
    endpoint_enabled: bool = False


class FlowValidationErrorOut(Schema):
    pointer: str
    error: str
    message: str


class FlowValidateOut(Schema):
    valid: bool
    errors: list[FlowValidationErrorOut]


class InstallBuiltinsIn(Schema):
    account_id: RowId


class FlowSendIn(Schema):
    phone_number_id: str = Field(description="The sending number (Meta phone_number_id).")
    to: str = Field(description="The contact's WhatsApp id (E.164 digits, no '+').")
    body: str
    cta: str
    header: str | None = None
    footer: str | None = None
    mode: str = "published"
    action: str = "navigate"
    screen: str | None = None
    data: dict[str, Any] | None = None


class EndpointKeyIn(Schema):
    phone_number_id: str
    rotate: bool = False


class EndpointKeyOut(Schema):
    phone_number_id: str
    key_version: int
    public_key_pem: str
    uploaded_at: datetime | None
    endpoint_uri: str


class FlowResponseOut(Schema):
    id: int
    flow_id: int | None
    flow_name: str
    flow_token: str
    contact_id: int | None
    wamid: str
    response_data: dict[str, Any]
    processed: bool
    processing_notes: str
    processing_errors: list[dict[str, Any]]
    record_type: str
    record_id: int | None
    created_at: datetime
    processed_at: datetime | None


class CustomerRecordOut(Schema):
    """What every record a Flow's answers create has (flows_builder.models.CustomerRecord)."""

    id: int
    contact_id: int | None
    flow_response_id: int | None
    customer_name: str
    customer_phone: str
    customer_email: str
    notes: str
    status: str
    created_at: datetime


class ServiceRequestOut(CustomerRecordOut):
    preferred_date: date
    time_slot: str
    street: str
    city: str
    region: str
    postal_code: str


class InstallationRequestOut(ServiceRequestOut):
    kind: str
    kit_type: str
    mount_location: str
    installation_type: str
    order_number: str


class CleaningRequestOut(ServiceRequestOut):
    roof_type: str
    panel_type: str
    panel_count: int


class TourInquiryOut(CustomerRecordOut):
    tour: str
    departure_date: date
    return_date: date
    travellers: int
    budget: str = Field(description="Per person: under_1000, 1000_3000 or over_3000 (USD).")


class FlowExchangeIn(Schema):
    mode: str = Field(description="forward (POST to your URL, signed) or static (answers declared here).")
    url: str = Field("", max_length=2000, description="forward: the https URL that answers the requests.")
    static_screens: dict[str, Any] | None = Field(
        None,
        description='static: {"<screen or action>": {"screen": "<next screen>", "data": {...}}}; '
        "the request's screen is looked up first, then its action (INIT, BACK, data_exchange). A data value "
        '{"$lookup": "catalogue_items", "category": "..."} or {"$lookup": "recent_orders", "limit": 5} '
        "becomes Dropdown options from your catalogue or the customer's orders.",
    )


class FlowExchangeOut(Schema):
    flow_id: int
    mode: str
    url: str
    static_screens: dict[str, Any]
    previous_secret_expires_at: datetime | None = Field(
        None, description="Until then the rolled secret signs too (a second signature)."
    )
    created_at: datetime
    updated_at: datetime


class FlowExchangeSavedOut(FlowExchangeOut):
    secret: str | None = Field(
        None, description="forward: the signing secret, shown only when it is created (null otherwise)."
    )


class FlowExchangeSecretRolledOut(Schema):
    secret: str = Field(description="The new secret, shown only now.")
    previous_secret_expires_at: datetime
