"""`manage.py bench_console`: server-side rendering time of the console inbox on a large workspace.

Creates (or reuses) a benchmark tenant holding --messages messages spread over many conversations,
one of which holds --thread-messages of them, inserted with set-based SQL. Then renders the inbox
list page and that thread page through Django's test client on the tenant's host as a logged-in
user, --runs times each after one warm-up, and reports the median and slowest time and the query
count. The tenant is kept for the next run unless --drop is given.
"""

from __future__ import annotations

import html
import json
import re
import statistics
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django_tenants.utils import schema_context

from messaging.models import Contact, Conversation, Message
from platform_core.crypto import Secret
from tenants.context import connection
from tenants.models import Tenant
from tenants.readiness import platform_migrate_if_needed
from tenants.services import tenant_create, tenant_delete
from waba.models import PhoneNumber, WhatsAppAccount

SLUG = "bench-console"
USERNAME = "bench-agent"
TARGET_MS = 100.0


class Command(BaseCommand):
    help = "Time the console inbox list and a 1,000-message thread on a workspace with many messages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--messages", type=int, default=100_000, help="messages in the workspace")
        parser.add_argument(
            "--per-conversation",
            type=int,
            default=20,
            help="messages per conversation, besides the big thread",
        )
        parser.add_argument("--thread-messages", type=int, default=1_000, help="messages of the timed thread")
        parser.add_argument("--runs", type=int, default=7, help="timed renders of each page")
        parser.add_argument("--fresh", action="store_true", help="drop the benchmark tenant first")
        parser.add_argument("--drop", action="store_true", help="drop the benchmark tenant at the end")
        parser.add_argument("--json", action="store_true", help="print one JSON object of figures on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        platform_migrate_if_needed(log=self.stderr.write)
        log = self.stderr.write
        tenant = Tenant.objects.filter(slug=SLUG).first()
        if tenant is not None and options["fresh"]:
            log("Dropping the previous benchmark tenant...")
            tenant_delete(tenant=tenant, confirm=SLUG)
            tenant = None
        if tenant is None:
            log("Creating the benchmark tenant...")
            tenant = tenant_create(slug=SLUG, name="Console benchmark").tenant
        domain = tenant.domains.get(is_primary=True).domain
        try:
            with schema_context(tenant.schema_name):
                thread_id = _workspace_fill(
                    messages=options["messages"],
                    per_conversation=options["per_conversation"],
                    thread_messages=options["thread_messages"],
                    log=log,
                )
                with transaction.atomic():
                    connection.cursor().execute("ANALYZE")
                user = get_user_model().objects.filter(
                    username=USERNAME
                ).first() or get_user_model().objects.create_user(USERNAME, password=None)
                client = Client(HTTP_HOST=domain)
                client.force_login(user)
                total = Message.objects.count()
                conversations = Conversation.objects.count()
            log(
                f"Timing {options['runs']} renders of each page ({total} messages, {conversations} conversations)..."
            )
            with override_settings(ALLOWED_HOSTS=[domain], SECURE_SSL_REDIRECT=False, DEBUG=False):
                figures = {
                    "messages": total,
                    "conversations": conversations,
                    "thread_messages": options["thread_messages"],
                    "inbox_list": _time_page(client, "/app/inbox/", options["runs"]),
                    "inbox_thread": _time_page(client, f"/app/inbox/{thread_id}/", options["runs"]),
                    "thread_poll": _time_page(client, _poll_url(client, thread_id), options["runs"]),
                }
        finally:
            connection.set_schema_to_public()
            if options["drop"]:
                tenant_delete(tenant=tenant, confirm=SLUG)
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(
            f"Console inbox: {figures['messages']} messages in {figures['conversations']} "
            f"conversations; the thread holds {figures['thread_messages']}"
        )
        self.stdout.write(
            f"  {'page':<14} {'median ms':>10} {'max ms':>8} {'cpu ms':>8} {'queries':>8} {'bytes':>8}  target"
        )
        for name in ("inbox_list", "inbox_thread", "thread_poll"):
            page = figures[name]
            verdict = "ok" if page["median_ms"] < TARGET_MS else f"over {TARGET_MS:.0f} ms"
            self.stdout.write(
                f"  {name:<14} {page['median_ms']:>10.1f} {page['max_ms']:>8.1f} "
                f"{page['median_cpu_ms']:>8.1f} {page['queries']:>8} {page['bytes']:>8}  {verdict}"
            )


def _poll_url(client: Client, thread_id: int) -> str:
    """The thread's own poll, as the open page would send it when nothing changed."""
    page = client.get(f"/app/inbox/{thread_id}/").content.decode()
    found = re.search(r'hx-get="(/app/inbox/\d+/updates/\?[^"]+)"', page)
    if found is None:
        raise RuntimeError("The thread page carries no poll URL.")
    return html.unescape(found.group(1))


def _time_page(client: Client, url: str, runs: int) -> dict[str, Any]:
    response = client.get(url)  # warm-up: templates compiled, caches filled
    if response.status_code not in (200, 204):
        raise RuntimeError(f"{url} answered {response.status_code}")
    timings, cpu_timings = [], []
    queries = 0
    for _ in range(max(1, runs)):
        with CaptureQueriesContext(connection) as captured:
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu_started) * 1000)
        queries = len(captured.captured_queries)
    return {
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        # This process's CPU time alone: on a busy machine, wall time also counts waiting for a core.
        "median_cpu_ms": round(statistics.median(cpu_timings), 1),
        "queries": queries,
        "bytes": len(response.content),
        "status": response.status_code,
    }


def _workspace_fill(*, messages: int, per_conversation: int, thread_messages: int, log: Any) -> int:
    """Insert the workspace's rows once (set-based SQL); returns the big thread's conversation id."""
    phone = PhoneNumber.objects.filter(phone_number_id="990000000001").first()
    if phone is None:
        account = WhatsAppAccount.objects.create(
            display_name="Benchmark",
            waba_id="990000000000",
            app_id="990000000002",
            access_token=Secret("EAAbench-token"),
            status=WhatsAppAccount.Status.ACTIVE,
        )
        phone = PhoneNumber.objects.create(
            account=account,
            phone_number_id="990000000001",
            display_phone_number="15550990001",
            e164_number="+15550990001",
            status="CONNECTED",
            is_registered=True,
        )
    existing = Message.objects.count()
    if existing >= messages:
        log(f"Reusing the benchmark workspace ({existing} messages).")
        return _thread_id()
    if existing:
        log("The workspace holds fewer messages than asked: starting it again.")
        Message.objects.all().delete()
        Conversation.objects.all().delete()
        Contact.objects.all().delete()
    others = max(0, messages - thread_messages)
    conversations = 1 + (others + per_conversation - 1) // per_conversation
    log(f"Inserting {conversations} contacts and conversations...")
    started = time.monotonic()
    tables = {
        "contact": Contact._meta.db_table,
        "conversation": Conversation._meta.db_table,
        "message": Message._meta.db_table,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {tables["contact"]} (wa_id, profile_name, first_seen_at, last_seen_at, opted_out, created_at)
            SELECT (491500000000 + n)::text, 'Customer ' || n, now() - interval '30 days', now(), false, now()
            FROM generate_series(1, %s) AS n""",
            [conversations],
        )
        cursor.execute(
            f"""INSERT INTO {tables["conversation"]} (contact_id, phone_number_id, message_count, unread_count,
                created_at)
            SELECT id, %s, 0, 0, now() - interval '30 days' FROM {tables["contact"]} ORDER BY id""",
            [phone.pk],
        )
        thread_id = _thread_id()
        log(f"Inserting {messages} messages ({thread_messages} in conversation {thread_id})...")
        # Message n of a conversation: inbound when n is odd; outbound ones move along the ticks.
        cursor.execute(
            f"""INSERT INTO {tables["message"]} (conversation_id, contact_id, phone_number_id, direction, wamid,
                type, content, body, context_wamid, referral_source_id, status, timestamp, error_title,
                error_details, error_reason, pricing_category, attempts, is_read_by_business, created_at, updated_at)
            SELECT c.id, c.contact_id, c.phone_number_id,
                CASE WHEN s.n %% 2 = 1 THEN 'in' ELSE 'out' END,
                'wamid.bench.' || c.id || '.' || s.n, 'text',
                jsonb_build_object('body', 'Message ' || s.n || ' of conversation ' || c.id),
                'Message ' || s.n || ' of conversation ' || c.id, '', '',
                CASE WHEN s.n %% 2 = 1 THEN 'received'
                     ELSE (ARRAY['sent', 'delivered', 'read', 'failed'])[1 + (s.n / 2) %% 4] END,
                now() - interval '30 days' + (c.id * 7 + s.n) * interval '1 second' * 13,
                '', '', '', '', 1, s.n < %(per)s - 2, now(), now()
            FROM {tables["conversation"]} c
            CROSS JOIN LATERAL generate_series(1, CASE WHEN c.id = %(thread)s THEN %(thread_n)s
                ELSE LEAST(%(per)s, %(others)s - (c.id - %(first)s - 1) * %(per)s) END) AS s(n)
            """,
            {
                "per": per_conversation,
                "thread": thread_id,
                "thread_n": thread_messages,
                "others": others,
                "first": thread_id,
            },
        )
        cursor.execute(
            f"""UPDATE {tables["conversation"]} c SET message_count = agg.total, last_message_at = agg.newest,
                last_inbound_at = agg.newest_in, unread_count = agg.unread,
                service_window_expires_at = agg.newest_in + interval '24 hours'
            FROM (SELECT conversation_id, count(*) AS total, max(timestamp) AS newest,
                    max(timestamp) FILTER (WHERE direction = 'in') AS newest_in,
                    count(*) FILTER (WHERE direction = 'in' AND NOT is_read_by_business) AS unread
                  FROM {tables["message"]} GROUP BY conversation_id) agg
            WHERE agg.conversation_id = c.id"""
        )
    log(f"Inserted in {time.monotonic() - started:.1f}s.")
    return thread_id


def _thread_id() -> int:
    first = Conversation.objects.order_by("id").values_list("id", flat=True).first()
    assert first is not None
    return first
