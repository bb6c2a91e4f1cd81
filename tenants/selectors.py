"""Reads of the public schema."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from tenants.models import ApiKey, MetaRoute, Tenant


def customer_tenants() -> QuerySet[Tenant]:
    """Every real tenant: not the public schema, not the template schema."""
    return Tenant.objects.exclude(schema_name__in=[get_public_schema_name(), settings.TENANT_BASE_SCHEMA])


def active_tenants() -> QuerySet[Tenant]:
    return customer_tenants().filter(status=Tenant.Status.ACTIVE)


def api_keys_of(*, tenant: Tenant | None) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(tenant=tenant)


def route_lookup(*, kind: str, external_id: str) -> Tenant | None:
    """The tenant that owns a WABA id or phone_number_id, or None when nobody does."""

    route = MetaRoute.objects.select_related("tenant").filter(kind=kind, external_id=external_id).first()
    return route.tenant if route else None
