"""Customer-journey figures: how first contacts became first orders, and a workflow's funnel.

A period is a range of days in a time zone, by default the workspace's (`workspace_zone`).

First contact is `Contact.first_seen_at`, which inbound storage keeps at the time of the contact's
earliest inbound message. A contact's first order is its earliest order placed at or after that
first contact, however long after (also after the period). The median and 90th percentile of the
times to first order are interpolated between orders (PostgreSQL's `percentile_cont`), in whole
seconds, None without an order.

The funnel counts distinct contacts who entered each step of a workflow in the period
(`WorkflowStepVisit`). Steps come in the order the workflow leads through them: breadth first
from its start, each step's targets in the order written (choices, then `next`, then
`on_error`); steps it no longer has, or cannot reach, come last. A step's drop is measured from
the step that first leads to it on that walk (`after`): that step's contacts minus its own, so a
branch is compared with the menu it branches from, not with its sibling. A contact may enter a
step without the one before it in the period (the period cuts a journey, or a tapped option of an
earlier menu resumed it), so a drop can be negative.
"""

from __future__ import annotations

from collections import deque
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection
from django.db.models import Count

from analytics.errors import WorkflowNotFound
from analytics.selectors import rate
from automations.definitions import WorkflowDefinition, definition_parse
from automations.models import Order, Workflow, WorkflowStepVisit
from messaging.models import Contact
from waba.models import WhatsAppAccount


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError when there is none by that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a known time zone, e.g. Europe/Berlin") from None


def workspace_zone() -> ZoneInfo:
    """The zone the workspace's days are read in: its first WhatsApp account's, UTC without one (or
    when that account's name is unknown)."""
    name = WhatsAppAccount.objects.order_by("id").values_list("timezone", flat=True).first()
    try:
        return zone_named(name or "UTC")
    except ValueError:
        return ZoneInfo("UTC")


def period_bounds(*, date_from: date, date_to: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants the days `date_from` to `date_to` (both included) of `zone` start and end at."""
    return (
        datetime.combine(date_from, time.min, tzinfo=zone),
        datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone),
    )


_JOURNEY_SQL = f"""
WITH first_contact AS (
    SELECT id AS contact_id, first_seen_at
    FROM {Contact._meta.db_table}
    WHERE first_seen_at >= %(start)s AND first_seen_at < %(end)s
), first_order AS (
    SELECT o.contact_id, min(o.created_at) AS ordered_at
    FROM {Order._meta.db_table} o JOIN first_contact f ON f.contact_id = o.contact_id
    WHERE o.created_at >= f.first_seen_at
    GROUP BY o.contact_id
)
SELECT count(*),
       count(o.ordered_at),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.ordered_at - f.first_seen_at)),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM o.ordered_at - f.first_seen_at))
FROM first_contact f LEFT JOIN first_order o ON o.contact_id = f.contact_id
"""


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def customer_journey(*, date_from: date, date_to: date, zone: ZoneInfo) -> dict[str, Any]:
    """First contacts in the period, how many went on to a first order, and how long it took. One query."""
    start, end = period_bounds(date_from=date_from, date_to=date_to, zone=zone)
    with connection.cursor() as cursor:
        cursor.execute(_JOURNEY_SQL, {"start": start, "end": end})
        first_contacts, ordered, median, p90 = cursor.fetchone()
    return {
        "date_from": date_from,
        "date_to": date_to,
        "timezone": zone.key,
        "first_contacts": first_contacts,
        "first_orders": ordered,
        "conversion_rate": rate(ordered, first_contacts),
        "median_time_to_first_order_s": _seconds(median),
        "p90_time_to_first_order_s": _seconds(p90),
    }


def workflow_get(*, workflow_id: int) -> Workflow:
    workflow = Workflow.objects.filter(pk=workflow_id).first()
    if workflow is None:
        raise WorkflowNotFound(f"No workflow {workflow_id} in this workspace.")
    return workflow


def workflow_busiest(*, date_from: date, date_to: date, zone: ZoneInfo) -> Workflow | None:
    """The workflow whose steps most contacts entered in the period (the first by name on a tie)."""
    start, end = period_bounds(date_from=date_from, date_to=date_to, zone=zone)
    return (
        Workflow.objects.filter(step_visits__entered_at__gte=start, step_visits__entered_at__lt=end)
        .annotate(contacts=Count("step_visits__contact", distinct=True))
        .order_by("-contacts", "name")
        .first()
    )


def workflow_step_order(definition: WorkflowDefinition) -> dict[str, str | None]:
    """Each step and the step that first leads to it (None for the start), breadth first from the
    start, each step's targets in the order written."""
    order: dict[str, str | None] = {}
    queue: deque[tuple[str, str | None]] = deque([(definition.start, None)])
    while queue:
        name, parent = queue.popleft()
        if name in order or name not in definition.steps:
            continue
        order[name] = parent
        step = definition.steps[name]
        targets = [choice.next for choice in step.input.choices] if step.input else []
        targets += [step.input.next if step.input else None, step.next, step.on_error]
        queue.extend((target, name) for target in targets if target)
    return order


def workflow_funnel(*, workflow: Workflow, date_from: date, date_to: date, zone: ZoneInfo) -> dict[str, Any]:
    """Distinct contacts who entered each step of `workflow` in the period, in the workflow's order,
    and the drop from the step that leads there. Two queries."""
    start, end = period_bounds(date_from=date_from, date_to=date_to, zone=zone)
    visits = WorkflowStepVisit.objects.filter(workflow=workflow, entered_at__gte=start, entered_at__lt=end)
    by_step = dict(
        visits.values("step").annotate(contacts=Count("contact", distinct=True)).values_list("step", "contacts")
    )
    entered = visits.aggregate(contacts=Count("contact", distinct=True))["contacts"]
    definition, _ = definition_parse(workflow.definition)
    order = workflow_step_order(definition) if definition is not None else {}
    for name in sorted((step for step in by_step if step not in order), key=lambda step: (-by_step[step], step)):
        order[name] = None
    first = by_step.get(next(iter(order)), 0) if order else 0
    steps = []
    for name, parent in order.items():
        contacts = by_step.get(name, 0)
        before = None if parent is None else by_step.get(parent, 0)
        steps.append(
            {
                "step": name,
                "after": parent,
                "contacts": contacts,
                "share_of_first": rate(contacts, first),
                "drop": None if before is None else before - contacts,
                "drop_rate": None if before is None else rate(before - contacts, before),
            }
        )
    return {
        "workflow_id": workflow.pk,
        "name": workflow.name,
        "date_from": date_from,
        "date_to": date_to,
        "timezone": zone.key,
        "contacts": entered,
        "steps": steps,
    }
