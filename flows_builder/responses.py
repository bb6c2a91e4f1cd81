"""Completed flows (`nfm_reply`): stored once per wamid, then handed to their flow's processor.

Nothing a customer submitted is ever dropped: an unknown token, invalid answers or a processor bug
leave the response stored with the reason in `processing_notes`, ready for a reprocess.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from flows_builder.errors import FlowResponseAlreadyProcessed, FlowResponseNotProcessed, FlowStateConflict
from flows_builder.models import FlowResponse, FlowToken
from flows_builder.processors import FLOW_PROCESSORS, ResponseInvalid
from messaging.models import Contact, Message

logger = logging.getLogger(__name__)

NFM_REPLY_KIND = "nfm_reply"
FLOW_REPLY_NAME = "flow"  # nfm_reply also carries address messages ("address_message")


def flow_response_record(*, wamid: str, contact: Contact | None, response: Mapping[str, Any]) -> FlowResponse:
    """Store a flow's answers and process them; the same wamid again returns the stored row unchanged.

    The flow is found through the `flow_token` inside the response. Runs in the tenant schema.
    """
    existing = FlowResponse.objects.filter(wamid=wamid).first()
    if existing is not None:
        return existing
    token_value = str(response.get("flow_token") or "")
    token = _token(token_value)
    notes = []
    if token is None:
        notes.append("No flow matches this flow_token: the response is stored unprocessed.")
    elif contact is not None and token.contact_id != contact.pk:
        notes.append("The flow_token was issued to another contact.")
    try:
        with transaction.atomic():
            stored = FlowResponse.objects.create(
                wamid=wamid,
                flow=token.flow if token else None,
                flow_name=token.flow.name if token else "",
                flow_token=token_value,
                contact=contact,
                response_data=dict(response),
                processing_notes="\n".join(notes),
            )
    except IntegrityError:  # a concurrent delivery of the same wamid stored it first
        return FlowResponse.objects.get(wamid=wamid)
    if token is not None:
        FlowToken.objects.filter(pk=token.pk, used_at__isnull=True).update(used_at=timezone.now())
        _process(stored)
    return stored


def flow_response_reprocess(*, response: FlowResponse) -> FlowResponse:
    """Run the processor again, e.g. after fixing data or code. Never creates a second record."""
    if response.record_id is not None:
        raise FlowResponseAlreadyProcessed(
            f"Response {response.pk} already created {response.record_type} #{response.record_id}."
        )
    if not response.flow_name:
        token = _token(response.flow_token)
        if token is None:
            raise FlowStateConflict(f"Response {response.pk} matches no flow: its flow_token is unknown.")
        response.flow, response.flow_name = token.flow, token.flow.name
        response.save(update_fields=["flow", "flow_name"])
    _process(response)
    return response


def flow_response_mark_processed(*, response: FlowResponse, note: str = "") -> FlowResponse:
    """Close a response by hand (handled outside the platform); its data stays."""
    if response.processed:
        return response
    response.processed = True
    response.processed_at = timezone.now()
    response.processing_notes = _append(response.processing_notes, note or "Marked processed by hand.")
    response.save(update_fields=["processed", "processed_at", "processing_notes"])
    return response


def flow_response_unprocess(*, response: FlowResponse, note: str = "") -> FlowResponse:
    """Open a processed response again so it shows among the unprocessed ones; its data stays.

    A record it created stays linked, so a later reprocess still refuses to create a second one.
    The conditional UPDATE makes two concurrent calls end with one success and one conflict.
    """
    notes = _append(response.processing_notes, note or "Marked unprocessed by hand.")
    reopened = FlowResponse.objects.filter(pk=response.pk, processed=True).update(
        processed=False, processed_at=None, processing_notes=notes
    )
    if not reopened:
        raise FlowResponseNotProcessed(f"Response {response.pk} is already unprocessed.")
    response.refresh_from_db()
    return response


def is_flow_reply(message: Message) -> bool:
    """A Flow's answer: an `nfm_reply` interactive message named `flow` (or unnamed).

    `message.content` is waba.webhook_events's normalised interactive content:
    `{kind: "nfm_reply", name, body, response: {...}, flow_token}`.
    """
    content = message.content if isinstance(message.content, dict) else {}
    return content.get("kind") == NFM_REPLY_KIND and content.get("name") in (None, FLOW_REPLY_NAME)


def handle_inbound_nfm_reply(message: Message) -> FlowResponse | None:
    """The inbound pipeline's hook for `interactive` messages: records flow replies, ignores the rest."""
    if not is_flow_reply(message) or not message.wamid:
        return None
    content = message.content
    response = found if isinstance(found := content.get("response"), dict) else {}
    if not response.get("flow_token") and content.get("flow_token"):
        response = {**response, "flow_token": content["flow_token"]}
    return flow_response_record(wamid=message.wamid, contact=message.contact, response=response)


def _process(response: FlowResponse) -> None:
    processor = FLOW_PROCESSORS.get(response.flow_name)
    now = timezone.now()
    if processor is None:
        response.processed, response.processed_at = True, now
        response.processing_notes = _append(
            response.processing_notes,
            f"No processor is registered for flow '{response.flow_name}': stored only.",
        )
        response.save()
        return
    try:
        with transaction.atomic():
            record = processor(response)
    except ResponseInvalid as exc:
        response.processed = False
        response.processing_errors = exc.errors
        response.processing_notes = _append(response.processing_notes, f"Processing failed: {exc}")
    except Exception as exc:  # a processor bug must not lose the response; the type is enough to log
        logger.error(
            "flow response %s: processor %s failed with %s",
            response.pk,
            response.flow_name,
            type(exc).__name__,
        )
        response.processed = False
        response.processing_errors = [{"field": "", "message": f"unexpected {type(exc).__name__}"}]
        response.processing_notes = _append(
            response.processing_notes,
            f"Processing failed with an unexpected {type(exc).__name__}; reprocess once it is fixed.",
        )
    else:
        response.processed, response.processed_at = True, now
        response.record_type, response.record_id = record.record_type, record.record_id
        response.processing_errors = []
        response.processing_notes = _append(
            response.processing_notes, f"Created {record.record_type} #{record.record_id}."
        )
    response.save()


def _token(value: str) -> FlowToken | None:
    if not value:
        return None
    return FlowToken.objects.select_related("flow").filter(token=value).first()


def _append(notes: str, line: str) -> str:
    return f"{notes}\n{line}" if notes else line
