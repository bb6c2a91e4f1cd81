"""Signals of the tenancy layer; higher apps connect receivers in their AppConfig.ready()."""

from __future__ import annotations

from platform_core.signals import IsolatedSignal

# Sent by tenants.services.tenant_resume once the tenant is active again (argument: `tenant`).
# Each receiver runs in its own savepoint: one that fails is logged and the resume still stands.
tenant_resumed = IsolatedSignal()
tenant_resumed.name = "tenant_resumed"

# Sent by tenants.services.api_keys_revoke_all with the keys it revoked in one UPDATE (argument:
# `api_keys`, their `revoked_at` set), inside its transaction; a receiver that raises undoes the revoke.
api_keys_revoked = IsolatedSignal()
api_keys_revoked.name = "api_keys_revoked"
