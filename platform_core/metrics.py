"""`GET /metrics` on the public host: Prometheus gauges computed from the database at scrape time.

The web, webhook and send workers are separate processes (and machines), so what operators watch is
read where they all write it, the database, when Prometheus scrapes; no process keeps counters.
Each scrape runs these statements, each inside its own savepoint and under
METRICS_STATEMENT_TIMEOUT_MS (one that fails or times out leaves its gauges out and sets
`platform_metrics_section_failed{section=...}` to 1; the others are still answered):

* journal: one aggregate over the unfinished journal rows (the claim index's partial rows only);
* dead_letters: one count of unresolved dead letters by reason;
* outbox: the tenants' schema names, one catalog query that skips schemas not migrated yet, then
  one UNION ALL over the outbox index of at most METRICS_OUTBOX_MAX_TENANTS tenant schemas: its
  cost grows with the tenants and their queued and sending messages, never with the messages sent;
* heartbeats: one aggregate over a row per worker process;
* schedules: django-q2's schedules joined with their last task;
* counters: what only the workers see (sends and throttles per number, Graph latency and errors,
  schedule runs), one grouped sum over `platform_metric_counter` (platform_core.counters).

Access: with METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` (else 401); unset,
404 unless DEBUG is on. The output holds counts, ages and names of tenants, schedules and process
types, never a credential or message content.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django_q.models import Schedule, Task
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from messaging.models import Message
from messaging.status_order import IN_OUTBOX
from platform_core import counters
from platform_core.api import error_response
from platform_core.counters import labels_key
from platform_core.heartbeats import PROCESS_TYPES, heartbeats_by_type, public_table
from tenants.selectors import customer_tenants
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry

logger = logging.getLogger(__name__)

UNFINISHED = (WebhookJournalEntry.State.PENDING, WebhookJournalEntry.State.PROCESSING)


def metrics_view(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _refusal(request: HttpRequest) -> HttpResponse | None:
    token = settings.METRICS_TOKEN
    if not token:
        return None if settings.DEBUG else error_response(404, "not_found", "Not found.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return error_response(401, "unauthorized", "/metrics needs `Authorization: Bearer <METRICS_TOKEN>`.",
                              headers={"WWW-Authenticate": "Bearer"})
    return None


class PlatformCollector(Collector):
    """Reads every gauge at collection time; see the module docstring for what each section costs."""

    def collect(self) -> Iterable[Metric]:
        sections: dict[str, Callable[[], list[Metric]]] = {
            "journal": _journal_metrics,
            "dead_letters": _dead_letter_metrics,
            "outbox": _outbox_metrics,
            "heartbeats": _heartbeat_metrics,
            "schedules": _schedule_metrics,
            "counters": _counter_metrics,
        }
        failed = GaugeMetricFamily("platform_metrics_section_failed",
                                   "1 when this scrape could not read the section (error or timeout).",
                                   labels=["section"])
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [settings.METRICS_STATEMENT_TIMEOUT_MS])
            for section, read in sections.items():
                try:
                    with transaction.atomic():
                        metrics = read()
                except DatabaseError as error:
                    logger.warning("Metrics section %s failed: %s", section, type(error).__name__)
                    failed.add_metric([section], 1)
                    continue
                failed.add_metric([section], 0)
                yield from metrics
        yield failed


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _journal_metrics() -> list[Metric]:
    entries = GaugeMetricFamily("platform_webhook_journal_entries",
                                "Accepted webhook deliveries not processed yet, by state.", labels=["state"])
    oldest = GaugeMetricFamily("platform_webhook_journal_oldest_unfinished_age_seconds",
                               "Age of the oldest delivery not processed yet (0 when none).")
    rows = _rows(
        f"SELECT state, count(*), extract(epoch FROM now() - min(received_at)) FROM {public_table(WebhookJournalEntry)} "
        "WHERE state IN (%s, %s) GROUP BY state",
        list(UNFINISHED),
    )
    counts = {state: (count, age) for state, count, age in rows}
    for state in UNFINISHED:
        entries.add_metric([state], counts.get(state, (0, 0))[0])
    oldest.add_metric([], max([float(age) for _, age in counts.values()] or [0.0]))
    return [entries, oldest]


def _dead_letter_metrics() -> list[Metric]:
    gauge = GaugeMetricFamily("platform_webhook_dead_letters_unresolved",
                              "Webhook changes that could not be delivered to a tenant, not resolved yet.",
                              labels=["reason"])
    counts = dict(_rows(f"SELECT reason, count(*) FROM {public_table(WebhookDeadLetter)} "
                        "WHERE resolved_at IS NULL GROUP BY reason"))
    for reason in [*WebhookDeadLetter.Reason.values, *sorted(set(counts) - set(WebhookDeadLetter.Reason.values))]:
        gauge.add_metric([reason], counts.get(reason, 0))
    return [gauge]


def _outbox_metrics() -> list[Metric]:
    depth = GaugeMetricFamily("platform_outbox_messages", "Outbound messages in a tenant's outbox, by state.",
                              labels=["tenant", "state"])
    counted = GaugeMetricFamily("platform_outbox_tenants_counted",
                                "Tenant schemas counted (at most METRICS_OUTBOX_MAX_TENANTS).")
    skipped = GaugeMetricFamily("platform_outbox_tenants_skipped",
                                "Tenant schemas left out: over METRICS_OUTBOX_MAX_TENANTS, or not migrated yet.")
    table = Message._meta.db_table
    wanted = list(customer_tenants().order_by("id").values_list("schema_name", flat=True))
    capped = wanted[: settings.METRICS_OUTBOX_MAX_TENANTS]
    ready = [schema for (schema,) in _rows(
        "SELECT s FROM unnest(%s::text[]) AS s WHERE to_regclass(quote_ident(s) || '.' || quote_ident(%s)) "
        "IS NOT NULL", [capped, table],
    )] if capped else []
    counts: dict[tuple[str, str], int] = {}
    if ready:
        quote = connection.ops.quote_name
        statuses = ", ".join(["%s"] * len(IN_OUTBOX))
        union = " UNION ALL ".join(
            f"SELECT %s, status, count(*) FROM {quote(schema)}.{quote(table)} WHERE status IN ({statuses}) "
            "GROUP BY status"
            for schema in ready
        )
        params: list[str] = []
        for schema in ready:
            params += [schema, *IN_OUTBOX]
        counts = {(schema, status): count for schema, status, count in _rows(union, params)}
    for schema in ready:
        for status in IN_OUTBOX:
            depth.add_metric([schema, str(status)], counts.get((schema, status), 0))
    counted.add_metric([], len(ready))
    skipped.add_metric([], len(wanted) - len(ready))
    return [depth, counted, skipped]


def _heartbeat_metrics() -> list[Metric]:
    age = GaugeMetricFamily("platform_process_heartbeat_age_seconds",
                            "Seconds since the freshest heartbeat of a worker process type.",
                            labels=["process_type"])
    alive = GaugeMetricFamily("platform_processes_alive",
                              "Processes of a type whose heartbeat is younger than HEARTBEAT_STALE_AFTER_S.",
                              labels=["process_type"])
    beats = heartbeats_by_type(alive_within_s=settings.HEARTBEAT_STALE_AFTER_S)
    for process_type in dict.fromkeys([*PROCESS_TYPES, *beats]):
        beat = beats.get(process_type)
        alive.add_metric([process_type], beat.alive if beat else 0)
        if beat is not None:
            age.add_metric([process_type], beat.age_s)
    return [age, alive]


def _schedule_metrics() -> list[Metric]:
    overdue = GaugeMetricFamily("platform_schedule_overdue_seconds",
                                "How far past its next run a schedule is (0 when on time): the job cluster "
                                "is not running schedules.", labels=["schedule"])
    succeeded = GaugeMetricFamily("platform_schedule_last_run_success",
                                  "1 when the schedule's last run succeeded, 0 when it failed.", labels=["schedule"])
    finished = GaugeMetricFamily("platform_schedule_last_run_timestamp_seconds",
                                 "When the schedule's last run finished (Unix time).", labels=["schedule"])
    rows = _rows(
        f"SELECT s.name, s.func, greatest(extract(epoch FROM now() - s.next_run), 0), t.success, "
        f"extract(epoch FROM t.stopped) FROM {public_table(Schedule)} s "
        f"LEFT JOIN {public_table(Task)} t ON t.id = s.task ORDER BY s.id"
    )
    for name, func, late, success, stopped in rows:
        label = name or func
        overdue.add_metric([label], float(late or 0))
        if success is not None:
            succeeded.add_metric([label], 1 if success else 0)
            finished.add_metric([label], float(stopped))
    return [overdue, succeeded, finished]


COUNTERS = {
    counters.SENDS: ("Messages the send workers finished with, by number and outcome (sent, retry, fail, "
                     "reconcile, stop_account; handed_back: claimed, then given back unsent because its slot "
                     "had passed or its account or tenant stopped).", ["phone_number_id", "outcome"]),
    counters.SEND_THROTTLED: ("Sends held back for going too fast: Meta's 130429 (throughput) and 131056 (pair "
                              "rate) answers, and messages our pair-rate limiter put back (pair_limiter).",
                              ["phone_number_id", "reason"]),
    counters.GRAPH_ERRORS: ("Graph API requests that failed, by Meta's error code (HTTP status without one, "
                            "transport when no answer came).", ["code"]),
    counters.SCHEDULE_RUNS: ("Runs of the platform's schedules finished by the job cluster.", ["name", "outcome"]),
}
HISTOGRAMS = {
    counters.GRAPH_REQUEST_DURATION: ("Graph API request latency by endpoint kind (the edge called).", ["kind"],
                                      counters.GRAPH_DURATION_BUCKETS),
}


def _counter_metrics() -> list[Metric]:
    """Every process's counters, summed: each family is present (empty until something counted)."""
    totals = counters.counter_totals()
    families: dict[str, CounterMetricFamily] = {
        name: CounterMetricFamily(name, doc, labels=labels) for name, (doc, labels) in COUNTERS.items()
    }
    histograms: dict[str, dict[str, dict[str, float]]] = {name: {} for name in HISTOGRAMS}
    for (name, labels_text), value in sorted(totals.items()):
        labels = json.loads(labels_text)
        if name in families:
            families[name].add_metric([labels.get(label, "") for label in COUNTERS[name][1]], value)
            continue
        base, _, part = name.rpartition("_")
        if base in histograms:
            le = labels.pop("le", None)
            series = histograms[base].setdefault(labels_key(labels), {})
            key = f"le={le}" if part == "bucket" else part
            series[key] = series.get(key, 0.0) + value
    metrics: list[Metric] = list(families.values())
    for name, (doc, labels, bounds) in HISTOGRAMS.items():
        family = HistogramMetricFamily(name, doc, labels=labels)
        for labels_text, series in sorted(histograms[name].items()):
            values = json.loads(labels_text)
            cumulative, buckets = 0.0, []
            for bound in [*(repr(float(b)) for b in bounds), "+Inf"]:
                cumulative += series.get(f"le={bound}", 0.0)
                buckets.append((bound, cumulative))
            family.add_metric([values.get(label, "") for label in labels], buckets, series.get("sum", 0.0))
        metrics.append(family)
    return metrics
