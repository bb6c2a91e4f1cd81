"""Where a tenant is served: the base URL of its host, as clients reach it.

The scheme and port are those of PUBLIC_BASE_URL (what the platform's proxy serves), so links handed
out (admin login, API, invitations) are `https://<slug>.<domain>` in production and
`http://<slug>.localhost:8000` in development.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def tenant_base_url(*, domain: str) -> str:
    public = urlsplit(settings.PUBLIC_BASE_URL)
    default_port = {"http": 80, "https": 443}.get(public.scheme)
    port = f":{public.port}" if public.port and public.port != default_port else ""
    return f"{public.scheme}://{domain}{port}"
