"""The objects the simulated Meta keeps: apps, WABAs, phone numbers, tokens, templates, flows, media.

Plain dataclasses; `SimulatorState` owns them and guards them with its lock.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from graph_simulator.constants import NAMED_VARIABLE, POSITIONAL_VARIABLE

_NON_DIGITS = re.compile(r"\D")


def digits_only(value: str) -> str:
    return _NON_DIGITS.sub("", value)


@dataclass
class App:
    app_id: str
    app_secret: str | None = None
    webhook_url: str | None = None
    name: str = "Simulated App"


@dataclass
class Subscription:
    app_id: str
    override_callback_uri: str | None = None
    verify_token: str | None = None


@dataclass
class PhoneNumber:
    id: str
    waba_id: str
    display_phone_number: str
    verified_name: str = "Simulated Business"
    quality_rating: str = "GREEN"
    status: str = "CONNECTED"
    throughput_level: str = "STANDARD"
    messaging_limit_tier: str = "TIER_1K"
    code_verification_status: str = "VERIFIED"
    name_status: str = "APPROVED"
    platform_type: str = "CLOUD_API"
    pin: str | None = None
    business_public_key: str | None = None

    @property
    def digits(self) -> str:
        return digits_only(self.display_phone_number)

    def graph_fields(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "display_phone_number": self.display_phone_number,
            "verified_name": self.verified_name,
            "quality_rating": self.quality_rating,
            "code_verification_status": self.code_verification_status,
            "platform_type": self.platform_type,
            "throughput": {"level": self.throughput_level},
            "messaging_limit_tier": self.messaging_limit_tier,
            "status": self.status,
            "name_status": self.name_status,
            "is_official_business_account": False,
            "account_mode": "LIVE",
        }


@dataclass
class Waba:
    id: str
    name: str = "Simulated WABA"
    business_id: str | None = None
    app_id: str | None = None
    currency: str = "USD"
    timezone_id: str = "1"
    subscriptions: dict[str, Subscription] = field(default_factory=dict)

    def graph_fields(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "currency": self.currency,
            "timezone_id": self.timezone_id,
            "message_template_namespace": f"sim_{self.id}",
            "account_review_status": "APPROVED",
            "business_verification_status": "verified",
            "owner_business_info": {"id": self.business_id, "name": self.name},
        }


@dataclass
class Token:
    token: str
    app_id: str | None = None
    waba_ids: set[str] = field(default_factory=set)
    expires_at: int = 0  # 0 = never, like Meta's system-user tokens
    valid: bool = True
    scopes: list[str] = field(
        default_factory=lambda: ["whatsapp_business_management", "whatsapp_business_messaging"]
    )
    issued_at: int = field(default_factory=lambda: int(time.time()))
    user_id: str = "1000000000001"

    def is_expired(self, now: float) -> bool:
        return bool(self.expires_at) and self.expires_at <= now


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = "PENDING"
    parameter_format: str = "POSITIONAL"
    rejected_reason: str | None = None

    def component(self, kind: str) -> dict[str, Any] | None:
        for component in self.components:
            if isinstance(component, dict) and str(component.get("type", "")).upper() == kind:
                return component
        return None

    def variable_count(self, kind: str) -> int:
        """Distinct `{{n}}` (or `{{name}}`) variables in the BODY or HEADER text."""
        component = self.component(kind)
        text = component.get("text") if component else None
        if not isinstance(text, str):
            return 0
        pattern = NAMED_VARIABLE if self.parameter_format == "NAMED" else POSITIONAL_VARIABLE
        return len(set(pattern.findall(text)))

    def graph_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "name": self.name,
            "parameter_format": self.parameter_format,
            "components": self.components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        }
        if self.rejected_reason:
            fields["rejected_reason"] = self.rejected_reason
        return fields


@dataclass
class Flow:
    id: str
    waba_id: str
    name: str
    categories: list[str]
    status: str = "DRAFT"
    flow_json: str | None = None
    validation_errors: list[dict[str, Any]] = field(default_factory=list)
    json_version: str | None = None
    data_api_version: str | None = None
    endpoint_uri: str | None = None
    app_id: str | None = None

    def graph_fields(self, base_url: str) -> dict[str, Any]:
        expires = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() + 30 * 86400))
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "categories": self.categories,
            "validation_errors": self.validation_errors,
            "json_version": self.json_version,
            "data_api_version": self.data_api_version,
            "endpoint_uri": self.endpoint_uri,
            "preview": {"preview_url": f"{base_url}/_flow_preview/{self.id}", "expires_at": expires},
            "whatsapp_business_account": {"id": self.waba_id},
            "application": {"id": self.app_id} if self.app_id else None,
            "health_status": {"can_send_message": "BLOCKED" if self.status == "BLOCKED" else "AVAILABLE"},
        }


@dataclass
class Media:
    id: str
    waba_id: str | None
    phone_number_id: str | None
    mime_type: str
    content: bytes
    sha256: str
    filename: str | None = None


@dataclass
class SignupGrant:
    """What one finished Embedded Signup dialog granted an app: redeemed once for a token by
    `GET /oauth/access_token` before `expires_at`."""

    code: str
    app_id: str
    waba_id: str
    phone_number_id: str | None
    business_id: str | None
    expires_at: float
    redeemed: bool = False
