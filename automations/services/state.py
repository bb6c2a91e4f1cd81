"""Conversation state: where a contact is in a workflow, one active state per contact and number.

The database enforces "at most one active" with a partial unique index. Writers lock the row
they change (`select_for_update`), so two replies of one contact processed at once are applied
one after the other, never interleaved. Time is passed in (`now`) so tests freeze it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from automations import conf
from automations.models import ConversationState, Workflow
from automations.selectors import conversation_state_expired, conversation_state_live
from messaging.models import Contact
from tenants.work_pending import WorkKind, work_announce
from waba.models import PhoneNumber, WhatsAppAccount

Status = ConversationState.Status
DEFAULT_TTL_MINUTES = 30


def state_ttl(account: WhatsAppAccount) -> timedelta:
    """The account's `conversation_state_ttl_minutes` (30 by default) after the last interaction."""
    return timedelta(minutes=account.conversation_state_ttl_minutes or DEFAULT_TTL_MINUTES)


def conversation_state_active(
    *, contact: Contact, phone_number: PhoneNumber, now: datetime | None = None, for_update: bool = False
) -> ConversationState | None:
    """The contact's live state on this number; an expired one reads as None. `for_update` locks it."""
    states = ConversationState.objects.filter(
        conversation_state_live(now=now), contact=contact, phone_number=phone_number
    )
    if for_update:
        states = states.select_for_update(of=("self",))
    return states.select_related("workflow").first()


def conversation_state_start(
    *,
    contact: Contact,
    phone_number: PhoneNumber,
    workflow: Workflow,
    step: str,
    context: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    processed_wamid: str = "",
    replacing: ConversationState | None = None,
    replacing_known: bool = False,
) -> ConversationState:
    """Start `workflow` at `step` for the contact, closing any active state first (as `replaced`,
    or `expired` when it had run out). `replacing` is the contact's active state when the caller
    holds it locked already: the one there can be, closed without reading it again.
    `replacing_known`: the caller read the contact's active row (locked) and `replacing` is it, or
    None when there was none, so nothing is read to look for one."""
    now = now or timezone.now()
    expires_at = now + state_ttl(phone_number.account)
    state = ConversationState(
        contact=contact,
        phone_number=phone_number,
        workflow=workflow,
        workflow_name=workflow.name,
        workflow_version=workflow.version,
        current_step=step,
        context=dict(context or {}),
        started_at=now,
        last_interaction_at=now,
        expires_at=expires_at,
        last_processed_wamid=processed_wamid,
    )
    with transaction.atomic(savepoint=False):  # all or nothing with the caller, who sees any error
        work_announce(kind=WorkKind.CONVERSATION_STATES, due_at=expires_at)
        if replacing is not None and replacing.status == Status.ACTIVE:
            _close_and_insert(replacing, state, now=now)
            return state
        if not replacing_known:
            _close_active(contact=contact, phone_number=phone_number, status=Status.REPLACED, now=now)
        state.save(force_insert=True)
        return state


def conversation_state_update(
    *,
    state: ConversationState,
    step: str | None = None,
    context: Mapping[str, Any] | None = None,
    failed_attempts: int | None = None,
    now: datetime | None = None,
    processed_wamid: str | None = None,
    locked: bool = False,
    account: WhatsAppAccount | None = None,
) -> ConversationState:
    """Move the state on: new step, context merged in (a None value removes its key), expiry pushed
    back. Locks the row for the rest of the caller's transaction.

    `locked`: the caller read `state` with its row lock in the current transaction
    (`conversation_state_active(for_update=True)`), so it is saved as it is, in one UPDATE, without
    being read again. `account` is the number's account when the caller has it at hand.
    """
    now = now or timezone.now()
    if locked:
        return _state_move(state, step=step, context=context, failed_attempts=failed_attempts, now=now,
                           processed_wamid=processed_wamid, account=account or state.phone_number.account)
    with transaction.atomic():
        current = ConversationState.objects.select_for_update().select_related("phone_number__account").get(
            pk=state.pk
        )
        return _state_move(current, step=step, context=context, failed_attempts=failed_attempts, now=now,
                           processed_wamid=processed_wamid, account=current.phone_number.account)


def _state_move(
    locked: ConversationState,
    *,
    step: str | None,
    context: Mapping[str, Any] | None,
    failed_attempts: int | None,
    now: datetime,
    processed_wamid: str | None,
    account: WhatsAppAccount,
) -> ConversationState:
    if step is not None:
        locked.current_step = step
    if context:
        merged = {**locked.context, **context}
        locked.context = {key: value for key, value in merged.items() if value is not None}
    if failed_attempts is not None:
        locked.failed_attempts = failed_attempts
    if processed_wamid is not None:
        locked.last_processed_wamid = processed_wamid
    locked.last_interaction_at = now
    locked.expires_at = now + state_ttl(account)
    locked.save(update_fields=["current_step", "context", "failed_attempts", "last_processed_wamid",
                               "last_interaction_at", "expires_at"])
    return locked


def conversation_state_end(
    *, state: ConversationState, status: str = Status.COMPLETED, now: datetime | None = None, locked: bool = False
) -> ConversationState:
    """Close the state (completed, cancelled, handed_off ...). Closing a closed state changes nothing.

    `locked`: the caller holds the row lock on `state` (see `conversation_state_update`), so it is
    closed in one conditional UPDATE, without being read again.
    """
    now = now or timezone.now()
    if locked:
        if ConversationState.objects.filter(pk=state.pk, status=Status.ACTIVE).update(status=status, ended_at=now):
            state.status, state.ended_at = status, now
        return state
    with transaction.atomic():
        current = ConversationState.objects.select_for_update().get(pk=state.pk)
        if current.status == Status.ACTIVE:
            current.status, current.ended_at = status, now
            current.save(update_fields=["status", "ended_at"])
    return current


def conversation_state_end_for(
    *, contact: Contact, phone_number: PhoneNumber, status: str, now: datetime | None = None
) -> int:
    """Close whatever state the contact has on this number, expired or not. Returns how many."""
    with transaction.atomic():
        return _close_active(contact=contact, phone_number=phone_number, status=status, now=now or timezone.now())


def conversation_states_next_due() -> datetime | None:
    """When the clean-up next has something to do here: the earliest expiry of an active state, or
    the earliest end of a closed one plus the retention. None when there are no states."""
    active = ConversationState.objects.filter(status=Status.ACTIVE).aggregate(due=Min("expires_at"))["due"]
    ended = ConversationState.objects.exclude(status=Status.ACTIVE).aggregate(due=Min("ended_at"))["due"]
    candidates = [due for due in (active, ended + conf.ENDED_STATE_RETENTION if ended else None) if due]
    return min(candidates, default=None)


def conversation_states_expire(*, now: datetime | None = None) -> int:
    """The clean-up (automations.schedules, every few minutes in each tenant): close active states past
    their expiry as `expired`, delete closed ones older than the retention. Returns how many expired."""
    now = now or timezone.now()
    expired = ConversationState.objects.filter(conversation_state_expired(now=now)).update(
        status=Status.EXPIRED, ended_at=now
    )
    ConversationState.objects.exclude(status=Status.ACTIVE).filter(
        ended_at__lt=now - conf.ENDED_STATE_RETENTION
    ).delete()
    return expired


def _close_active(*, contact: Contact, phone_number: PhoneNumber, status: str, now: datetime) -> int:
    closed = 0
    for old in ConversationState.objects.select_for_update().filter(
        contact=contact, phone_number=phone_number, status=Status.ACTIVE
    ):
        _close(old, status=status, now=now)
        closed += 1
    return closed


def _close_and_insert(old: ConversationState, new: ConversationState, *, now: datetime) -> None:
    """Close `old` (the caller holds its row lock) as `_close` does and insert `new`, in one statement:
    the INSERT reads the UPDATE's result first, so the old row has left the one-active index when
    the new one enters it."""
    status = Status.EXPIRED if old.expires_at <= now else Status.REPLACED
    fields = [field for field in ConversationState._meta.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(field.pre_save(new, add=True), connection) for field in fields]
    table = connection.ops.quote_name(ConversationState._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    sql = (
        f"WITH closed AS (UPDATE {table} SET status = %s, ended_at = %s WHERE id = %s RETURNING 1) "
        f"INSERT INTO {table} ({columns}) SELECT {', '.join(['%s'] * len(values))} "
        f"FROM (SELECT count(*) FROM closed) AS replaced RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [status, now, old.pk, *values])
        (new.pk,) = cursor.fetchone()
    new._state.adding, new._state.db = False, connection.alias
    old.status, old.ended_at = status, now


def _close(state: ConversationState, *, status: str, now: datetime) -> None:
    state.status = Status.EXPIRED if state.expires_at <= now else status
    state.ended_at = now
    state.save(update_fields=["status", "ended_at"])
