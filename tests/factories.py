"""factory-boy factories. Tenants are costly (a schema each): tests use the session's `alpha` and `beta`."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from tenants.models import Tenant
from tenants.services import CreatedApiKey, api_key_create


class TenantUserFactory(factory.django.DjangoModelFactory):
    """A user of whatever schema is active when it is created (use inside `in_tenant`)."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")
    is_staff = True
    is_superuser = True


class ApiKeyFactory(factory.Factory):
    """Builds a live key through the service; the result carries the clear key once (`.key`)."""

    class Meta:
        model = CreatedApiKey

    tenant: Tenant | None = None
    name = factory.Sequence(lambda n: f"test key {n}")

    @classmethod
    def _create(cls, model_class, *, tenant: Tenant | None, name: str) -> CreatedApiKey:
        return api_key_create(tenant=tenant, name=name, created_by="tests")

    _build = _create


def api_key_for(tenant: Tenant | None) -> CreatedApiKey:
    return ApiKeyFactory(tenant=tenant)
