"""Bulk template sends: one request, up to BROADCAST_MAX_RECIPIENTS messages, queued in batches.

Every recipient is validated before anything is written (a bad number or a wrong parameter count
refuses the whole request with every problem listed), so a broadcast is never half-accepted by
mistake. Messages are then written in transactions of BROADCAST_BATCH_SIZE through the outbox,
each scheduled at the sending number's throughput so that messages queued later by the API or by
automations (due at once) are not stuck behind the whole broadcast. Runs in the tenant's schema.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from broadcasts.models import CANCELLED_TITLE, Broadcast, BroadcastRecipient
from broadcasts.schemas import BroadcastIn, BroadcastRecipientIn
from contacts.segments import segment_audience_wa_ids, segment_get
from messaging.models import Contact, Message
from platform_core.usage_limits import MESSAGES, usage_limit_check
from sending.errors import IdempotencyKeyReused, MessageInvalid, RecipientInvalid
from sending.outbox import OutboundItem, outbox_enqueue, rows_copy
from sending.quotas import quota_give_back, quota_take
from sending.services import account_check_active, template_for_send
from sending.validation import built_message, problem, recipient_normalise, template_content_build
from waba import meta
from waba.models import MessageTemplate
from waba.selectors import phone_number_for_send

MAX_PROBLEMS_LISTED = 100


def broadcast_create(*, request: BroadcastIn, idempotency_key: str | None = None) -> tuple[Broadcast, bool]:
    """Validate every recipient, then queue one template message each. Returns (broadcast, replayed).

    Quotas: the whole broadcast counts against the tenant's and the account's per-day and
    per-month limits at once (the per-minute limit governs API calls; the broadcast itself is
    paced by the number's throughput).
    """
    request = _audience_resolve(request)
    if idempotency_key:
        earlier = Broadcast.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replay(earlier, request), True
    _check_size(request)
    phone = phone_number_for_send(phone_number_id=request.phone_number_id)
    account_check_active(account=phone.account)
    template = template_for_send(account=phone.account, name=request.template.name, language=request.template.language)
    items, parameters = _items_build(request.recipients, template)
    skipped = _opted_out(items, template)
    sendable = [item for item in items if item.wa_id not in skipped]
    usage_limit_check(resource=MESSAGES, amount=len(sendable), category=template.category.lower())
    windows = quota_take(account=phone.account, amount=len(sendable), periods=("day", "month"))
    try:
        broadcast = Broadcast.objects.create(
            name=request.name,
            phone_number=phone,
            template=template,
            template_name=template.name,
            template_language=template.language,
            total_recipients=len(items),
            idempotency_key=idempotency_key or None,
            send_at=timezone.now(),
            audience=_audience_described(request, len(items)),
        )
    except BaseException:
        quota_give_back(windows=windows, amount=len(sendable))
        raise
    BroadcastRecipient.objects.bulk_create(
        [
            BroadcastRecipient(broadcast=broadcast, wa_id=wa_id, parameters=parameters[wa_id], skipped_reason=reason)
            for wa_id, reason in skipped.items()
        ]
    )
    _queue_in_batches(broadcast, sendable, parameters)
    Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.QUEUING).update(status=Broadcast.Status.RUNNING)
    broadcast.refresh_from_db()
    return broadcast, False


def broadcast_cancel(*, broadcast: Broadcast, reason: str = "") -> tuple[Broadcast, int]:
    """Stop a broadcast: every message still queued fails with the reason and is never sent.

    Messages a worker had already claimed (at most one pacing horizon of them) may still go out;
    their number is returned. Cancelling twice changes nothing.
    """
    now = timezone.now()
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        messages = Message.objects.filter(broadcast_recipient__broadcast=broadcast)
        if broadcast.status != Broadcast.Status.CANCELLED:
            # Rows a worker is claiming right now are locked: this waits, then skips them as `sending`.
            queued_messages_update(
                broadcast=broadcast,
                status=Message.Status.FAILED,
                failed_at=now,
                next_attempt_at=None,
                error_code=None,
                error_title=CANCELLED_TITLE,
                error_details=reason,
                updated_at=now,
            )
            broadcast.status = Broadcast.Status.CANCELLED
            broadcast.cancelled_at = now
            broadcast.cancel_reason = reason[:500]
            broadcast.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        in_flight = messages.filter(status=Message.Status.SENDING).count()
    return broadcast, in_flight


def queued_messages_update(*, broadcast: Broadcast, **changes: Any) -> int:
    """Change the broadcast's messages that are still queued; returns how many.

    One UPDATE joined on the recipient rows: a plan that stays fast for a campaign of any size, also
    right after it was written, before the table statistics know its rows.
    """
    columns, params = [], []
    for name, value in changes.items():
        field = Message._meta.get_field(name)
        assert isinstance(field, models.Field) and field.column, name
        columns.append(f"{connection.ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Message._meta.db_table} m SET {', '.join(columns)} "
            f"FROM {BroadcastRecipient._meta.db_table} r "
            "WHERE r.message_id = m.id AND r.broadcast_id = %s AND m.status = %s",
            [*params, broadcast.pk, Message.Status.QUEUED],
        )
        return cursor.rowcount


def _audience_resolve(request: BroadcastIn) -> BroadcastIn:
    """The request with its recipients: those it lists, or a segment's contacts as they are now, each
    with the request's `parameters`. Exactly one of the two must be given."""
    if request.segment_id is None:
        if not request.recipients:
            raise MessageInvalid([problem("recipients", "give recipients or a segment_id", "required")])
        return request
    if request.recipients:
        raise MessageInvalid([problem("recipients", "give recipients or a segment_id, not both", "conflict")])
    wa_ids = segment_audience_wa_ids(segment=segment_get(segment_id=request.segment_id))
    if not wa_ids:
        raise MessageInvalid([problem("segment_id", "the segment has no contact who may receive it", "empty")])
    shared = request.parameters.model_dump()
    recipients = [BroadcastRecipientIn(to=f"+{wa_id}", **shared) for wa_id in wa_ids]
    return request.model_copy(update={"recipients": recipients})


def _audience_described(request: BroadcastIn, count: int) -> dict:
    if request.segment_id is not None:
        return {"kind": "segment", "segment_id": request.segment_id}
    return {"kind": "phones", "count": count}


def _check_size(request: BroadcastIn) -> None:
    limit = settings.BROADCAST_MAX_RECIPIENTS
    if len(request.recipients) > limit:
        raise MessageInvalid(
            [
                problem(
                    "recipients",
                    f"at most {limit} recipients per broadcast, got {len(request.recipients)}",
                    "too_many",
                    limit,
                    len(request.recipients),
                )
            ]
        )


def _items_build(
    recipients: list[BroadcastRecipientIn], template: MessageTemplate
) -> tuple[list[OutboundItem], dict[str, dict]]:
    """One queued item per recipient, and each recipient's parameters (kept on its row)."""
    problems: list[dict] = []
    items: list[OutboundItem] = []
    parameters: dict[str, dict] = {}
    seen: dict[str, int] = {}
    for index, recipient in enumerate(recipients):
        field = f"recipients[{index}]"
        try:
            wa_id = recipient_normalise(recipient.to)
        except RecipientInvalid as error:
            problems.append(problem(f"{field}.to", error.message))
            continue
        if wa_id in seen:
            problems.append(problem(f"{field}.to", f"same number as recipients[{seen[wa_id]}]", "duplicate"))
            continue
        seen[wa_id] = index
        found: list[dict] = []
        content, body = template_content_build(template=template, parameters=recipient, problems=found, prefix=field)
        problems.extend(found)
        if not found:
            built = built_message(to_wa_id=wa_id, message_type="template", content=content, body=body)
            items.append(OutboundItem(wa_id=wa_id, built=built, template=template))
            parameters[wa_id] = recipient.model_dump(exclude={"to"}, exclude_defaults=True)
        if len(problems) >= MAX_PROBLEMS_LISTED:
            break
    if problems:
        raise MessageInvalid(problems[:MAX_PROBLEMS_LISTED])
    return items, parameters


def _opted_out(items: list[OutboundItem], template: MessageTemplate) -> dict[str, str]:
    """Recipients who get nothing: blocked by the workspace, or opted out of marketing when the
    template is MARKETING."""
    wa_ids = [item.wa_id for item in items]
    skipped = dict.fromkeys(
        Contact.objects.filter(wa_id__in=wa_ids, blocked=True).values_list("wa_id", flat=True), "blocked"
    )
    if template.category == meta.TemplateCategory.MARKETING:
        opted_out = Contact.objects.filter(wa_id__in=wa_ids, opted_out=True).values_list("wa_id", flat=True)
        for wa_id in opted_out:
            skipped.setdefault(wa_id, "opted out of marketing messages")
    return skipped


def _queue_in_batches(broadcast: Broadcast, items: list[OutboundItem], parameters: dict[str, dict]) -> None:
    batch_size = settings.BROADCAST_BATCH_SIZE
    start = timezone.now()
    spacing = 1.0 / broadcast.phone_number.throughput_mps
    for offset in range(0, len(items), batch_size):
        batch = [
            OutboundItem(
                wa_id=item.wa_id,
                built=item.built,
                template=item.template,
                next_attempt_at=start + timedelta(seconds=(offset + position) * spacing),
            )
            for position, item in enumerate(items[offset : offset + batch_size])
        ]
        with transaction.atomic():
            messages = outbox_enqueue(phone_number=broadcast.phone_number, items=batch)
            rows_copy(
                model=BroadcastRecipient,
                objects=[
                    BroadcastRecipient(
                        broadcast=broadcast, wa_id=item.wa_id, parameters=parameters[item.wa_id], message=message
                    )
                    for item, message in zip(batch, messages, strict=True)
                ],
            )


def _replay(earlier: Broadcast, request: BroadcastIn) -> Broadcast:
    same = (
        earlier.phone_number.phone_number_id == request.phone_number_id
        and earlier.template_name == request.template.name
        and earlier.template_language == request.template.language
        and earlier.total_recipients == len(request.recipients)
    )
    if not same:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different broadcast; use a new key for a new broadcast.",
            details={"broadcast_id": earlier.pk},
        )
    return earlier
