"""`manage.py sandbox_account <tenant>`: a working WhatsApp account for any tenant, backed by the
Graph API simulator (development only; see `waba.services.sandbox`).

Run it while `make run` is running. Running it again for the same tenant is harmless: it finds
the same account and makes it healthy again if the simulator had forgotten it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from platform_core.errors import DomainError
from waba.services.sandbox import (
    SandboxAccount,
    sandbox_account_prepare,
    sandbox_simulator_url,
    sandbox_tenant_resolve,
)

CUSTOMER = "+14155550123"  # a fictional number (555-01xx) that the send checks accept


class Command(BaseCommand):
    help = (
        "Prepare a sandbox WhatsApp account (WABA, phone number, token) for a tenant against the Graph API "
        "simulator, set up through the setup wizard. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="the tenant's slug, schema name or domain")
        parser.add_argument("--name", default=None, help="the business name (default: '<tenant name> sandbox')")
        parser.add_argument(
            "--simulator-url",
            default=None,
            help="the simulator's base URL (default: GRAPH_API_BASE_URL, or the one `make run` starts "
            "when GRAPH_API_BASE_URL is Meta's)",
        )

    def handle(self, *args: Any, tenant: str, name: str | None, simulator_url: str | None, **options: Any) -> None:
        try:
            found = sandbox_tenant_resolve(identifier=tenant)
            url = sandbox_simulator_url(explicit=simulator_url)
            self.stdout.write(f"Graph API simulator: {url}")
            # The wizard's Graph calls go to GRAPH_API_BASE_URL: in this process, the simulator.
            with override_settings(GRAPH_API_BASE_URL=url):
                result = sandbox_account_prepare(
                    tenant=found, simulator_url=url, display_name=name, progress=self.stdout.write
                )
        except DomainError as error:
            raise CommandError(f"{error.message} ({error.code})") from None
        self._report(result, url)

    def _report(self, result: SandboxAccount, simulator_url: str) -> None:
        account, ids = result.account, result.ids
        public = urlsplit(settings.PUBLIC_BASE_URL)
        domain = result.tenant.domains.filter(is_primary=True).values_list("domain", flat=True).first()
        tenant_url = f"{public.scheme}://{domain}" + (f":{public.port}" if public.port else "")
        customer_message = {
            "phone_number_id": ids.phone_number_id,
            "from": CUSTOMER.lstrip("+"),
            "type": "text",
            "text": {"body": "Hello!"},
        }
        reply = {"phone_number_id": ids.phone_number_id, "to": CUSTOMER, "type": "text", "text": {"body": "Hi!"}}
        imported = result.setup.templates
        templates = (
            f"templates imported: {imported.counts}"
            if not imported.error_code
            else f"templates not imported yet ({imported.error_code})"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Sandbox account {account.pk} of tenant {result.tenant.slug!r} is {account.status}"
                f" ({'set up now' if result.set_up_now else 'set up before, checked again'}; {templates})."
            )
        )
        lines = [
            f"  WABA {ids.waba_id}, phone number {ids.phone_number} (phone_number_id {ids.phone_number_id})",
            f"  Meta app {ids.app_id}: the simulator posts its webhooks to {result.setup.callback_url}",
            "",
            "Next:",
            "  - Keep `make run` running: the platform's workers answer the webhooks, and its simulator keeps",
            "    this account across restarts (its state file). Running this command again is harmless.",
            "  - Play a customer writing to the sandbox number:",
            f"      curl -X POST {simulator_url}/_sim/inject/message -H 'Content-Type: application/json' \\",
            f"        -d '{json.dumps(customer_message)}'",
            "  - Answer through the tenant's API (with one of the tenant's API keys; `make run` prints the demo's):",
            f"      curl -X POST {tenant_url}/api/v1/messages -H 'Authorization: Bearer <tenant API key>' \\",
            f"        -H 'Content-Type: application/json' -d '{json.dumps(reply)}'",
            f"  - The account and its health: {tenant_url}/api/v1/accounts/{account.pk}/health",
        ]
        self.stdout.write("\n".join(lines))
