"""Bearer API-key authentication for the tenant and platform APIs, and the scope each request needs.

Which scope a request needs is decided here and nowhere else: the first rule of the API's table
whose path pattern and methods match the request names it; otherwise a read (GET, HEAD, OPTIONS)
needs the API's read scope and any other method its catch-all write scope, so a new endpoint that
writes is refused to keys without that scope until a rule says otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django_tenants.utils import get_public_schema_name
from ninja.security import HttpBearer

from platform_core.client_address import client_address
from platform_core.errors import DomainError
from tenants.context import TenantRequest, connection
from tenants.models import (
    SCOPE_BILLING,
    SCOPE_KEYS,
    SCOPE_MANAGE,
    SCOPE_READ,
    SCOPE_SEND,
    SCOPE_TENANTS_DELETE,
    SCOPE_TENANTS_READ,
    SCOPE_TENANTS_WRITE,
    ApiKey,
)
from tenants.services import api_key_authenticate

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANY_METHOD = READ_METHODS | WRITE_METHODS


@dataclass(frozen=True)
class ScopeRule:
    """Requests whose path below the API's root matches `path` (whole) with one of `methods` need `scope`."""

    path: str
    methods: frozenset[str]
    scope: str

    def matches(self, method: str, path: str) -> bool:
        return method in self.methods and re.fullmatch(self.path, path) is not None


@dataclass(frozen=True)
class ScopeTable:
    rules: tuple[ScopeRule, ...]
    read_scope: str
    write_scope: str

    def required_scope(self, method: str, path: str) -> str:
        for rule in self.rules:
            if rule.matches(method, path):
                return rule.scope
        return self.read_scope if method in READ_METHODS else self.write_scope


TENANT_API_SCOPES = ScopeTable(
    rules=(
        ScopeRule(r"billing(/.*)?", ANY_METHOD, SCOPE_BILLING),
        ScopeRule(r"api-keys(/.*)?", WRITE_METHODS, SCOPE_KEYS),
        # Who did what and from which address: for the keys that may change the configuration.
        ScopeRule(r"audit-log(/.*)?", ANY_METHOD, SCOPE_MANAGE),
        # Sending, marking read (a read receipt to the customer) and bulk sends.
        ScopeRule(r"(messages|conversations|broadcasts|campaigns)(/.*)?", WRITE_METHODS, SCOPE_SEND),
        ScopeRule(r"flows/[^/]+/send", WRITE_METHODS, SCOPE_SEND),
    ),
    read_scope=SCOPE_READ,
    write_scope=SCOPE_MANAGE,
)

PLATFORM_API_SCOPES = ScopeTable(
    rules=(
        ScopeRule(r"billing(/.*)?", ANY_METHOD, SCOPE_BILLING),
        ScopeRule(r"tenants/[^/]+", frozenset({"DELETE"}), SCOPE_TENANTS_DELETE),
    ),
    read_scope=SCOPE_TENANTS_READ,
    write_scope=SCOPE_TENANTS_WRITE,
)


class InsufficientScope(DomainError):
    code = "insufficient_scope"
    status = 403


def _path_below_api_root(request: HttpRequest) -> str:
    """`messages/12` for `/api/v1/messages/12`: the path as the API's routers declare it."""
    path = request.path_info
    match = request.resolver_match
    if match is not None and match.namespace:
        try:
            root = reverse(f"{match.namespace}:api-root")
        except NoReverseMatch:
            root = ""
        if root and path.startswith(root):
            return path[len(root) :].strip("/")
    return path.strip("/")


def scope_check(request: HttpRequest, api_key: ApiKey, table: ScopeTable) -> None:
    """Raise InsufficientScope unless `api_key` holds the scope `table` asks for this request."""
    method = (request.method or "GET").upper()
    needed = table.required_scope(method, _path_below_api_root(request))
    if not api_key.has_scope(needed):
        held = ", ".join(api_key.scope_list) or "none"
        raise InsufficientScope(
            f"This API key lacks the '{needed}' scope that {method} {request.path_info} needs "
            f"(the key's scopes: {held}).",
            details={"required_scope": needed, "key_scopes": api_key.scope_list},
        )


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
    """A live key of the tenant whose host served the request, holding the scope the request needs.

    Anything but a live key of this tenant is 401 (an expired one says so); a key without the
    needed scope is 403.
    """

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == get_public_schema_name():
            return None
        api_key = api_key_authenticate(key=token, tenant=tenant, address=client_address(request))
        if api_key is None:
            return None
        scope_check(request, api_key, TENANT_API_SCOPES)
        cast(TenantRequest, request).api_key = api_key
        return api_key


class PlatformApiKeyAuth(_ApiKeyBearer):
    """A live platform key holding the scope the request needs, accepted only on the public host."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        if connection.schema_name != get_public_schema_name():
            return None
        api_key = api_key_authenticate(key=token, tenant=None, address=client_address(request))
        if api_key is None:
            return None
        scope_check(request, api_key, PLATFORM_API_SCOPES)
        cast(TenantRequest, request).api_key = api_key
        return api_key
