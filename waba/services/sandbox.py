"""Sandbox accounts (development only): a tenant's WhatsApp account backed by the Graph API simulator.

`sandbox_account_prepare` gives the simulator a business of its own (app, WABA, phone number,
token) through the simulator's control API (`POST /_sim/seed`: not Meta's, only the simulator
has it), then sets the account up in the tenant's schema with the setup wizard's services, the
same calls the wizard API makes. The ids are derived from the tenant's schema name, so running
it again for a tenant finds the same account: the simulator is seeded again with the secrets the
account already holds and the setup is completed again, which turns an unhealthy sandbox
account (a simulator that forgot it) active again.

Nothing is done unless the Graph API base URL answers as the simulator (`GET /_sim/health`), so
a sandbox account is never attempted against Meta.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db.models import Q
from django_tenants.utils import schema_context

from platform_core.errors import DomainError
from tenants.models import Tenant
from tenants.selectors import customer_tenants
from waba import meta
from waba.models import WhatsAppAccount
from waba.services.accounts import webhook_callback_url
from waba.services.activation import SetupResult, setup_complete
from waba.services.credentials import secret_value
from waba.services.phone_numbers import display_number_for
from waba.services.wizard import setup_start, setup_step_save

SIMULATOR_TIMEOUT_S = 5


class SandboxTenantNotFound(DomainError):
    code = "tenant_not_found"
    status = 404


class SimulatorUnavailable(DomainError):
    code = "simulator_unavailable"
    status = 503


@dataclass(frozen=True)
class SandboxIds:
    app_id: str
    waba_id: str
    business_id: str
    phone_number_id: str
    phone_number: str  # E.164


@dataclass(frozen=True)
class SandboxAccount:
    tenant: Tenant
    account: WhatsAppAccount
    ids: SandboxIds
    set_up_now: bool
    setup: SetupResult


def sandbox_tenant_resolve(*, identifier: str) -> Tenant:
    """A customer tenant by slug, schema name or domain; SandboxTenantNotFound lists the known slugs."""
    text = identifier.strip().lower()
    tenant = (
        customer_tenants()
        .filter(Q(slug=text) | Q(schema_name=text) | Q(domains__domain=text))
        .distinct()
        .first()
    )
    if tenant is None:
        known = ", ".join(customer_tenants().order_by("slug").values_list("slug", flat=True)) or "none yet"
        raise SandboxTenantNotFound(
            f"No tenant {identifier!r}: give a tenant's slug, schema name or domain (tenants: {known})."
        )
    return tenant


def sandbox_simulator_url(*, explicit: str | None = None) -> str:
    """Where the simulator is: `explicit`, else GRAPH_API_BASE_URL unless that is Meta's own URL,
    else the simulator `make run` starts (SIMULATOR_PORT on this machine)."""
    if explicit:
        return explicit.rstrip("/")
    configured = settings.GRAPH_API_BASE_URL.rstrip("/")
    if configured != meta.GRAPH_API_DEFAULT_BASE_URL:
        return configured
    return f"http://127.0.0.1:{settings.SIMULATOR_PORT}"


def sandbox_simulator_check(*, simulator_url: str) -> None:
    """Raise SimulatorUnavailable unless `simulator_url` answers as the Graph API simulator."""
    try:
        response = httpx.get(f"{simulator_url}/_sim/health", timeout=SIMULATOR_TIMEOUT_S)
        healthy = response.status_code == 200 and response.json().get("ok") is True
    except (httpx.HTTPError, ValueError, AttributeError):
        healthy = False
    if not healthy:
        raise SimulatorUnavailable(
            f"No Graph API simulator answers at {simulator_url}: start it with `make run` "
            "(or `manage.py graph_simulator`), or point GRAPH_API_BASE_URL or --simulator-url at it."
        )


def sandbox_ids(*, tenant: Tenant) -> SandboxIds:
    """The tenant's sandbox ids: the same on every run, different for every tenant."""
    number = int(hashlib.sha256(f"sandbox:{tenant.schema_name}".encode()).hexdigest(), 16) % 10**12
    return SandboxIds(
        app_id=f"191{number:012d}",
        waba_id=f"192{number:012d}",
        business_id=f"193{number:012d}",
        phone_number_id=f"194{number:012d}",
        phone_number=f"+1555{number % 10**7:07d}",
    )


def sandbox_account_prepare(
    *,
    tenant: Tenant,
    simulator_url: str,
    display_name: str | None = None,
    progress: Callable[[str], Any] = lambda line: None,
) -> SandboxAccount:
    """Create (or heal) the tenant's sandbox account in the simulator and in the tenant's schema.

    The Graph calls of the wizard go to GRAPH_API_BASE_URL, which must be `simulator_url`. Raises
    SimulatorUnavailable, or the wizard's own errors (FieldsInvalid, MetaCheckFailed, ...).
    """
    sandbox_simulator_check(simulator_url=simulator_url)
    ids = sandbox_ids(tenant=tenant)
    name = (display_name or f"{tenant.name} sandbox").strip()
    with schema_context(tenant.schema_name):
        account = WhatsAppAccount.objects.filter(waba_id=ids.waba_id).first()
        token = secret_value(account.access_token) if account else ""
        app_secret = secret_value(account.app_secret) if account else ""
        token = token or "EAAGsandbox" + secrets.token_hex(24)
        app_secret = app_secret or secrets.token_hex(16)
        if account is not None:
            name = account.display_name or name
        progress(f"Seeding the simulator with WABA {ids.waba_id}, phone number {ids.phone_number}, app {ids.app_id}...")
        _simulator_seed(
            simulator_url,
            _seed_document(ids=ids, name=name, token=token, app_secret=app_secret),
            hidden=(token, app_secret),
        )

        set_up_now = account is None or account.status == WhatsAppAccount.Status.DRAFT
        if account is not None and not set_up_now:
            progress(f"Tenant {tenant.slug!r} already has this sandbox account ({account.status}); checking it again...")
        else:
            progress(f"Setting up the account in tenant {tenant.slug!r} through the setup wizard...")
            account = account or setup_start(display_name=name)
            for step, data in _wizard_steps(ids=ids, name=name, token=token, app_secret=app_secret).items():
                setup_step_save(account=account, step=step, data=data)
                progress(f"  step {step} saved")
        progress("Completing the setup (checks with the simulator, subscribes the app, goes live)...")
        setup = setup_complete(account=account)
        return SandboxAccount(tenant=tenant, account=setup.account, ids=ids, set_up_now=set_up_now, setup=setup)


def _seed_document(*, ids: SandboxIds, name: str, token: str, app_secret: str) -> dict[str, Any]:
    return {
        "apps": [
            {
                "app_id": ids.app_id,
                "app_secret": app_secret,
                "name": f"{name} app",
                "webhook_url": webhook_callback_url(app_id=ids.app_id),
            }
        ],
        "wabas": [
            {
                "id": ids.waba_id,
                "name": name,
                "business_id": ids.business_id,
                "app_id": ids.app_id,
                "phone_numbers": [
                    {
                        "id": ids.phone_number_id,
                        "display_phone_number": display_number_for(ids.phone_number),
                        "verified_name": name,
                        "quality_rating": "GREEN",
                        "status": "CONNECTED",
                        "messaging_limit_tier": "TIER_1K",
                        "throughput": {"level": "STANDARD"},
                    }
                ],
            }
        ],
        "tokens": [{"token": token, "app_id": ids.app_id, "waba_ids": [ids.waba_id], "valid": True, "expires_at": 0}],
    }


def _wizard_steps(*, ids: SandboxIds, name: str, token: str, app_secret: str) -> dict[str, dict[str, Any]]:
    return {
        "business-account": {
            "display_name": name,
            "waba_id": ids.waba_id,
            "business_account_id": ids.business_id,
            "app_id": ids.app_id,
            "app_secret": app_secret,
        },
        "phone-number": {"phone_number_id": ids.phone_number_id, "phone_number": ids.phone_number},
        "access-tokens": {"access_token": token},
        "business-profile": {"profile_name": name},
        "bot-configuration": {},
        "webhook-configuration": {},
    }


def _simulator_seed(simulator_url: str, document: dict[str, Any], *, hidden: tuple[str, ...]) -> None:
    """POST the seed document; the simulator's answer is quoted in errors with `hidden` blanked."""
    try:
        response = httpx.post(f"{simulator_url}/_sim/seed", json=document, timeout=SIMULATOR_TIMEOUT_S)
    except httpx.HTTPError as error:
        raise SimulatorUnavailable(
            f"The Graph API simulator at {simulator_url} did not answer ({type(error).__name__}): "
            "start it with `make run`."
        ) from None
    if response.status_code != 200:
        answer = response.text[:300]
        for secret in hidden:
            answer = answer.replace(secret, "[secret]")
        raise SimulatorUnavailable(
            f"The Graph API simulator at {simulator_url} refused the sandbox seed (HTTP {response.status_code}): {answer}"
        )
