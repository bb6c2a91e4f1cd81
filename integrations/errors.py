"""Domain errors of the integrations: stable codes, one HTTP status each (see platform_core.api)."""

from __future__ import annotations

from platform_core.errors import DomainError


class EndpointNotFound(DomainError):
    code = "webhook_endpoint_not_found"
    status = 404


class DeliveryNotFound(DomainError):
    code = "webhook_delivery_not_found"
    status = 404


class EndpointInvalid(DomainError):
    code = "invalid_webhook_endpoint"
    status = 422


class EndpointUrlRefused(EndpointInvalid):
    """The URL is not https or points at an address inside a network (SSRF guard)."""

    code = "webhook_url_refused"
