from __future__ import annotations

from django.core.management.base import BaseCommand

from platform_core.demo import CREDENTIALS_FILE, demo_seed


class Command(BaseCommand):
    help = "Create (idempotently) the platform admin, a platform key, the demo tenant and its API key."

    def handle(self, *args, **options) -> None:
        credentials = demo_seed()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready; credentials kept in {CREDENTIALS_FILE}."))
        self.stdout.write(f"  tenant: {credentials.tenant_slug}, API key: {credentials.tenant_api_key}")
