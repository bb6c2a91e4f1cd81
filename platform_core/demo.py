"""Idempotent demo data for `make run`: a platform admin, a platform key, the `demo` tenant and its key.

Secrets are shown once by design, so the demo keeps what it minted in
`.data/demo-credentials.json` (git-ignored, mode 0600) to print them again on the
next start. A credential that no longer works is replaced, never duplicated.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django_tenants.utils import schema_context

from platform_core.db import DATA_DIR
from tenants.models import Tenant
from tenants.services import TENANT_ADMIN_USERNAME, api_key_authenticate, api_key_create, tenant_create

CREDENTIALS_FILE = DATA_DIR / "demo-credentials.json"
DEMO_SLUG = "demo"
PLATFORM_ADMIN_USERNAME = "admin"


@dataclass
class DemoCredentials:
    platform_admin_username: str = PLATFORM_ADMIN_USERNAME
    platform_admin_password: str = ""
    platform_api_key: str = ""
    tenant_slug: str = DEMO_SLUG
    tenant_admin_username: str = TENANT_ADMIN_USERNAME
    tenant_admin_password: str = ""
    tenant_api_key: str = ""


def _load() -> DemoCredentials:
    try:
        stored = json.loads(CREDENTIALS_FILE.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return DemoCredentials()
    known = DemoCredentials.__dataclass_fields__
    return DemoCredentials(**{key: value for key, value in stored.items() if key in known})


def _save(credentials: DemoCredentials) -> None:
    CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
    tmp = CREDENTIALS_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(credentials), indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(CREDENTIALS_FILE)


def _ensure_superuser(username: str, password: str) -> str:
    """A superuser in the current schema whose password is `password` (a new one if empty)."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None and password and user.check_password(password):
        return password
    password = password or secrets.token_urlsafe(12)
    if user is None:
        User.objects.create_superuser(username=username, email="", password=password)
    else:
        user.set_password(password)
        user.is_staff = user.is_superuser = user.is_active = True
        user.save()
    return password


@transaction.atomic
def demo_seed() -> DemoCredentials:
    credentials = _load()
    credentials.platform_admin_password = _ensure_superuser(
        credentials.platform_admin_username, credentials.platform_admin_password
    )
    if api_key_authenticate(key=credentials.platform_api_key, tenant=None) is None:
        credentials.platform_api_key = api_key_create(
            tenant=None, name="demo platform key", created_by="make run"
        ).key

    tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
    if tenant is None:
        created = tenant_create(slug=DEMO_SLUG, name="Demo Coffee Roasters")
        tenant = created.tenant
        credentials.tenant_admin_password = created.admin_password
    with schema_context(tenant.schema_name):
        credentials.tenant_admin_password = _ensure_superuser(
            credentials.tenant_admin_username, credentials.tenant_admin_password
        )
    if api_key_authenticate(key=credentials.tenant_api_key, tenant=tenant) is None:
        credentials.tenant_api_key = api_key_create(tenant=tenant, name="demo key", created_by="make run").key
    _save(credentials)
    return credentials
