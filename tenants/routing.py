"""Writes to the routing index (public schema): who owns a WABA id, a phone_number_id, a Meta app.

Every id is owned by at most one tenant platform-wide; claiming an id that another tenant owns
raises `AlreadyClaimed` (409). Claims are idempotent for their owner. Callers run these inside
their own transaction (a tenant's search path reaches the public tables), so a failed setup rolls
its claims back with everything else.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from platform_core.crypto import Secret
from platform_core.errors import DomainError
from tenants.models import MetaApp, MetaRoute, Tenant


class AlreadyClaimed(DomainError):
    code = "already_claimed"
    status = 409


class MetaAppReserved(DomainError):
    """The platform's own Meta app (settings `META_APP_ID`) can never become a tenant's app."""

    code = "app_id_reserved"
    status = 422


_KIND_NAMES: dict[str, str] = {MetaRoute.Kind.WABA: "WhatsApp Business Account", MetaRoute.Kind.PHONE_NUMBER: "phone number"}


def _claimed_error(kind: str, external_id: str) -> AlreadyClaimed:
    name = _KIND_NAMES.get(kind, kind)
    return AlreadyClaimed(
        f"The {name} {external_id} is already connected to another workspace. Each one can belong to "
        "a single workspace; remove it there first.",
        details={"kind": kind, "external_id": external_id},
    )


def route_claim(*, tenant: Tenant, kind: str, external_id: str) -> MetaRoute:
    """Own `external_id` for `tenant` (idempotent); AlreadyClaimed if another tenant owns it."""
    route = MetaRoute.objects.filter(kind=kind, external_id=external_id).first()
    if route is None:
        try:
            with transaction.atomic():  # a savepoint: a lost race must not break the caller's transaction
                return MetaRoute.objects.create(kind=kind, external_id=external_id, tenant=tenant)
        except IntegrityError:
            route = MetaRoute.objects.get(kind=kind, external_id=external_id)
    if route.tenant_id != tenant.id:
        raise _claimed_error(kind, external_id)
    return route


def route_claim_check(*, tenant: Tenant, kind: str, external_id: str) -> None:
    """Raise AlreadyClaimed now if another tenant owns the id (a fail-fast check; claims nothing)."""
    owner_id = MetaRoute.objects.filter(kind=kind, external_id=external_id).values_list(
        "tenant_id", flat=True
    )
    if any(owner != tenant.id for owner in owner_id):
        raise _claimed_error(kind, external_id)


def routes_release(*, tenant: Tenant, kind: str, external_ids: list[str]) -> int:
    """Give up `tenant`'s claims on these ids; other tenants' claims are never touched."""
    if not external_ids:
        return 0
    deleted, _ = MetaRoute.objects.filter(tenant=tenant, kind=kind, external_id__in=external_ids).delete()
    return deleted


def meta_app_is_reserved(app_id: str) -> bool:
    """True for the platform's own app: its secret and verify token come only from the settings."""
    return bool(settings.META_APP_ID) and str(app_id).strip() == settings.META_APP_ID


def meta_app_reserved_check(*, app_id: str) -> None:
    if meta_app_is_reserved(app_id):
        raise MetaAppReserved(
            f"The Meta app {app_id} is the platform's own app; a workspace cannot register it. Enter the id "
            "of your own Meta app (App settings > Basic in Meta's developer dashboard).",
            details=[{"field": "app_id", "message": "reserved for the platform's own app", "type": "app_id_reserved"}],
        )


@transaction.atomic
def meta_app_register(*, tenant: Tenant, app_id: str, app_secret: str, verify_token: str) -> MetaApp:
    """Register (or update) the Meta app whose webhooks reach /webhooks/whatsapp/<app_id>.

    A tenant's app belongs to the tenant that registered it first: another tenant gets
    AlreadyClaimed. The platform's app from the settings is refused (MetaAppReserved); a platform
    app kept as a row without a tenant is used as it is, never overwritten. The newest secret and
    verify token win for the owner (what the tenant last entered in Meta).
    """
    meta_app_reserved_check(app_id=app_id)
    app = MetaApp.objects.select_for_update().filter(app_id=app_id).first()
    if app is None:
        try:
            with transaction.atomic():
                return MetaApp.objects.create(
                    app_id=app_id, app_secret=Secret(app_secret), verify_token=Secret(verify_token), tenant=tenant
                )
        except IntegrityError:
            app = MetaApp.objects.select_for_update().get(app_id=app_id)
    if app.tenant_id is None:
        return app
    if app.tenant_id != tenant.id:
        raise AlreadyClaimed(
            f"The Meta app {app_id} is already registered by another workspace.",
            details={"kind": "meta_app", "external_id": app_id},
        )
    app.app_secret = Secret(app_secret)
    app.verify_token = Secret(verify_token)
    app.save(update_fields=["app_secret", "verify_token", "updated_at"])
    return app


def meta_app_check(*, tenant: Tenant, app_id: str) -> None:
    """Raise AlreadyClaimed now if another tenant registered this app, MetaAppReserved if it is the
    platform's own (fail-fast; writes nothing)."""
    meta_app_reserved_check(app_id=app_id)
    owner = MetaApp.objects.filter(app_id=app_id).values_list("tenant_id", flat=True).first()
    if owner is not None and owner != tenant.id:
        raise AlreadyClaimed(
            f"The Meta app {app_id} is already registered by another workspace.",
            details={"kind": "meta_app", "external_id": app_id},
        )


def meta_app_release(*, tenant: Tenant, app_id: str) -> bool:
    """Unregister `tenant`'s app (the platform's own app and other tenants' apps stay)."""
    deleted, _ = MetaApp.objects.filter(tenant=tenant, app_id=app_id).delete()
    return bool(deleted)
