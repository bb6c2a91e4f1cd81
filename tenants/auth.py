"""Bearer API-key authentication for the tenant and platform APIs."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name
from ninja.security import HttpBearer

from tenants.context import TenantRequest, connection
from tenants.models import ApiKey
from tenants.services import api_key_authenticate


class TenantApiKeyAuth(HttpBearer):
    """A live key of the tenant whose host served the request; anything else is 401."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == get_public_schema_name():
            return None
        api_key = api_key_authenticate(key=token, tenant=tenant)
        if api_key is not None:
            cast(TenantRequest, request).api_key = api_key
        return api_key


class PlatformApiKeyAuth(HttpBearer):
    """A live platform key, accepted only on the public host."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        if connection.schema_name != get_public_schema_name():
            return None
        api_key = api_key_authenticate(key=token, tenant=None)
        if api_key is not None:
            cast(TenantRequest, request).api_key = api_key
        return api_key
