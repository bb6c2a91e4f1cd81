"""`manage.py sync_whatsapp_flows`: sync (and optionally publish) WhatsApp Flows to Meta, per tenant.

    manage.py sync_whatsapp_flows                         # every active flow of every active tenant
    manage.py sync_whatsapp_flows --tenant alpha --flow starlink --publish

One line per flow, then a summary. A flow that fails is reported and the others go on; the
command exits non-zero when any flow failed. A link to a conversational flow that does not exist
is a warning, never a failure.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from flows_builder.links import flow_link_warnings
from flows_builder.selectors import flow_list
from flows_builder.sync import flow_sync
from platform_core.errors import DomainError
from tenants.models import Tenant
from tenants.selectors import active_tenants


class Command(BaseCommand):
    help = "Sync WhatsApp Flows to Meta (create, upload when changed, publish on request)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--flow", help="Only flows whose name starts with this (case-insensitive).")
        parser.add_argument("--publish", action="store_true", help="Publish after uploading.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Re-upload unchanged drafts; refresh published flows' status.",
        )
        parser.add_argument("--tenant", help="Only this tenant (slug); default: every active tenant.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = self._tenants(options.get("tenant"))
        counts: Counter[str] = Counter()
        tenants_seen = 0
        for tenant in tenants:
            with schema_context(tenant.schema_name):
                flows = list(flow_list(is_active=True, name_prefix=options.get("flow")).order_by("name"))
                if flows:
                    tenants_seen += 1
                for flow in flows:
                    self._sync_one(tenant, flow, options, counts)
        if not counts["flows"]:
            self.stdout.write("No active flows match.")
            return
        self.stdout.write(self._summary(counts, tenants_seen))
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} flow(s) failed to sync.")

    def _tenants(self, slug: str | None) -> list[Tenant]:
        tenants = active_tenants().order_by("slug")
        if slug:
            tenants = tenants.filter(slug=slug)
            if not tenants.exists():
                raise CommandError(f"No active tenant with slug {slug!r}.")
        return list(tenants)

    def _sync_one(self, tenant: Tenant, flow: Any, options: dict[str, Any], counts: Counter[str]) -> None:
        counts["flows"] += 1
        label = f"[{tenant.slug}] {flow.name}"
        try:
            outcome = flow_sync(flow=flow, publish=options["publish"], force=options["force"])
        except DomainError as exc:
            counts["failed"] += 1
            self.stdout.write(self.style.ERROR(f"{label}: FAILED {exc.code}: {exc.message}"))
        except Exception as exc:  # one broken flow must not stop the others; the row records the error
            counts["failed"] += 1
            self.stdout.write(self.style.ERROR(f"{label}: FAILED unexpected {type(exc).__name__}"))
        else:
            counts["created"] += outcome.created and not outcome.new_version
            counts["new_version"] += outcome.new_version
            counts["uploaded"] += outcome.uploaded
            counts["published"] += outcome.published
            counts["unchanged"] += not outcome.changed_anything
            meta_id = f" (meta id {outcome.flow.meta_flow_id}, {outcome.flow.meta_status})"
            self.stdout.write(self.style.SUCCESS(f"{label}: {outcome.describe()}{meta_id}"))
        for warning in flow_link_warnings(flow=flow):
            counts["warnings"] += 1
            self.stdout.write(self.style.WARNING(f"{label}: warning: {warning}"))

    @staticmethod
    def _summary(counts: Counter[str], tenants: int) -> str:
        return (
            f"Summary: {counts['flows']} flow(s) in {tenants} tenant(s): {counts['created']} created, "
            f"{counts['new_version']} new version(s), {counts['uploaded']} uploaded, "
            f"{counts['published']} published, {counts['unchanged']} unchanged, {counts['failed']} failed, "
            f"{counts['warnings']} warning(s)."
        )
