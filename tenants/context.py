"""What django-tenants and the API-key auth add to Django's connection and request, typed.

The database engine is django_tenants.postgresql_backend: its connection carries the current
schema and switches it, and its middleware sets `request.tenant`. django-stubs types
`django.db.connection` as the plain BaseDatabaseWrapper and knows nothing of `request.tenant`, so
code that reads them imports `connection` from here (at run time the very same object as
`django.db.connection`) and annotates views with `TenantRequest`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.db import connection as _connection
from django.http import HttpRequest

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from tenants.models import ApiKey, Tenant

    class TenantDatabaseWrapper(BaseDatabaseWrapper):
        """django_tenants.postgresql_backend.base.DatabaseWrapper, as far as this project uses it."""

        schema_name: str

        def set_schema_to_public(self) -> None: ...


connection = cast("TenantDatabaseWrapper", _connection)


class TenantRequest(HttpRequest):
    """A request as the tenant middleware and django-ninja's API-key auth leave it (annotations only)."""

    tenant: Tenant
    auth: ApiKey
    api_key: ApiKey
