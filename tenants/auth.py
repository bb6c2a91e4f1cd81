"""Bearer API-key authentication for the tenant and platform APIs."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name
from ninja.security import HttpBearer

from tenants.context import TenantRequest, connection
from tenants.models import ApiKey
from tenants.services import api_key_authenticate


class _ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer <key>`; a header with any other scheme is no key (401).

    django-ninja's own parsing logs a header with another scheme in full when DEBUG is on, and a
    `Basic` header is a user's password in base64: this one never logs the header.
    """

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not token.strip():
            return None
        return self.authenticate(request, token.strip())


class TenantApiKeyAuth(_ApiKeyBearer):
    """A live key of the tenant whose host served the request; anything else is 401."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == get_public_schema_name():
            return None
        api_key = api_key_authenticate(key=token, tenant=tenant)
        if api_key is not None:
            cast(TenantRequest, request).api_key = api_key
        return api_key


class PlatformApiKeyAuth(_ApiKeyBearer):
    """A live platform key, accepted only on the public host."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        if connection.schema_name != get_public_schema_name():
            return None
        api_key = api_key_authenticate(key=token, tenant=None)
        if api_key is not None:
            cast(TenantRequest, request).api_key = api_key
        return api_key
