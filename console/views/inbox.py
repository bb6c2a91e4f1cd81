"""Console pages: the inbox (conversation list, a thread, replies and the agent's actions).

Every page works as plain links and POST forms that redirect back; htmx enhances them: the list
and the thread poll small partials, and the action forms swap only the part they change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from automations.errors import HandoffAlreadyClosed
from automations.models import HumanHandoff
from automations.services.handoffs import handoff_close, handoff_open, handoff_open_for
from console import inbox as queries
from console.access import tenant_console_view
from messaging.media import inbound_media_retry, media_state_text, message_media_content, message_media_fetch
from messaging.models import Conversation, Message, MessageMedia
from messaging.receipts import conversation_mark_read
from messaging.selectors import conversation_messages_changed, conversation_messages_page, messages_by_wamid
from platform_core.errors import DomainError
from sending.services import message_send
from tenants.context import TenantRequest
from waba import meta
from waba.models import MessageTemplate

THREAD_PAGE_SIZE = 50
REPLY_FIELDS = ("kind", "text", "media_type", "media_ref", "caption", "template")


def _from_htmx(request: TenantRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _conversation_or_404(conversation_id: int) -> Conversation:
    conversation = queries.inbox_conversation_get(conversation_id=conversation_id)
    if conversation is None:
        raise Http404("No such conversation in this workspace.")
    return conversation


def _list_context(request: TenantRequest) -> dict[str, Any]:
    search = request.GET.get("q", "")[:100]
    filter_key = request.GET.get("filter", "all")
    if filter_key not in queries.FILTERS:
        filter_key = "all"
    cursor = request.GET.get("cursor") or None
    try:
        page = queries.inbox_conversations(
            user_id=request.user.pk, search=search, filter_key=filter_key, cursor=cursor
        )
    except queries.InvalidInboxCursor:
        page = queries.inbox_conversations(user_id=request.user.pk, search=search, filter_key=filter_key)
        cursor = None
    base = {"q": search} if search else {}
    today = timezone.localdate().strftime("%Y%m%d")
    filters = [
        {
            "key": key,
            "label": label,
            "query": urlencode({**base, "filter": key}),
            "current": key == filter_key,
        }
        for key, label in queries.FILTERS.items()
    ]
    here = {**base, "filter": filter_key, **({"cursor": cursor} if cursor else {})}
    return {
        "rows": [
            {
                "row": row,
                "snippet": queries.message_snippet(row.last_message),
                **_when(getattr(row.conversation, "sort_at", None), today=today),
            }
            for row in page.rows
        ],
        "search": search,
        "filter_key": filter_key,
        "filters": filters,
        "list_query": urlencode(here),
        "next_query": urlencode({**base, "filter": filter_key, "cursor": page.next_cursor})
        if page.next_cursor
        else "",
        "paged": bool(cursor),
        "first_query": urlencode({**base, "filter": filter_key}),
    }


@tenant_console_view(area="inbox")
@require_GET
def inbox(request: TenantRequest) -> HttpResponse:
    return render(request, "console/inbox.html", {"section": "inbox", **_list_context(request)})


@tenant_console_view(area="inbox")
@require_GET
def inbox_list(request: TenantRequest) -> HttpResponse:
    """The list alone, for polling and for the search form's live results."""
    current = request.GET.get("current", "")
    return render(
        request,
        "console/inbox/_list.html",
        {
            **_list_context(request),
            "current_id": int(current) if current.isdigit() and len(current) < 19 else None,
        },
    )


# --- the thread ---------------------------------------------------------------------------------


def _render_messages(messages_shown: list[Message]) -> list[dict[str, Any]]:
    """Each message with what the thread shows next to it: the message it quotes or reacts to."""
    wamids = [m.context_wamid for m in messages_shown]
    wamids += [str((m.content or {}).get("message_id") or "") for m in messages_shown if m.type == "reaction"]
    referenced = messages_by_wamid(wamids=wamids)
    items = []
    for message in messages_shown:
        target = (
            (message.content or {}).get("message_id") if message.type == "reaction" else message.context_wamid
        )
        items.append(
            {
                "message": message,
                "content": message.content or {},
                "referenced": referenced.get(str(target or "")),
                **_media_state(message),
                **_when(message.timestamp),
            }
        )
    return items


def _media_state(message: Message) -> dict[str, Any]:
    """What the thread says about keeping an inbound message's media: nothing while all is well."""
    media: MessageMedia | None = getattr(message, "stored_media", None)
    if media is None or message.direction != Message.Direction.INBOUND:
        return {"media_note": "", "media_gone": False, "media_retry": False}
    troubled = media.state in (MessageMedia.State.FAILED, MessageMedia.State.EXPIRED) or bool(media.failure_code)
    return {
        "media_note": media_state_text(media) if troubled and media.state != MessageMedia.State.STORED else "",
        "media_gone": media.state in (MessageMedia.State.FAILED, MessageMedia.State.EXPIRED),
        "media_retry": media.state == MessageMedia.State.FAILED,
    }


def _when(at: datetime | None, *, today: str = "") -> dict[str, str]:
    """A time for people (hours only when it is today) and for machines; formatted here because
    the template filter's localisation is the slowest part of rendering a long list."""
    if at is None:
        return {"at_iso": "", "at_label": ""}
    local = timezone.localtime(at)
    day = local.strftime("%Y%m%d")
    label = f"{local:%H:%M}" if day == today else f"{local:%b} {local.day}, {local:%H:%M}"
    return {"at_iso": local.isoformat(), "at_label": label}


def _poll_query(
    messages_shown: list[Message], after: int = 0, since: datetime | None = None, first: int = 0
) -> str:
    ids = [m.pk for m in messages_shown]
    times = [m.updated_at for m in messages_shown if m.updated_at]
    newest_time = max([*times, *([since] if since else [])], default=None)
    return urlencode(
        {
            "after": max([*ids, after]),
            "first": first or min(ids, default=0),
            "since": newest_time.isoformat() if newest_time else "",
        }
    )


def _reply_state(
    conversation: Conversation, data: QueryDict | None = None, errors: list[str] | None = None
) -> dict[str, Any]:
    data = data if data is not None else QueryDict()
    window_open = conversation.window_open()
    values = {key: data.get(key, "") for key in REPLY_FIELDS}
    kind = values["kind"] if values["kind"] in ("text", "media", "template") else ""
    if not kind:
        kind = "text" if window_open else "template"
    template = None
    templates = list(queries.approved_templates(conversation=conversation))
    if values["template"].isdigit():
        template = next((t for t in templates if t.pk == int(values["template"])), None)
    parameters = {
        key: data.get(key, "")[:1024] for key in data if key.startswith(("header_", "body_", "button_"))
    }
    return {
        "window_open": window_open,
        "kind": kind,
        "values": values,
        "templates": templates,
        "template": template,
        "template_fields": queries.template_fields(template, parameters) if template else [],
        "preview": queries.template_preview(template, parameters) if template else None,
        "media_types": meta.MEDIA_MESSAGE_TYPES,
        "errors": errors or [],
    }


def _head_context(conversation: Conversation, request: TenantRequest, error: str = "") -> dict[str, Any]:
    handoff = handoff_open_for(contact=conversation.contact, phone_number=conversation.phone_number)
    return {
        "conversation": conversation,
        "handoff": handoff,
        "users": list(queries.assignable_users()),
        "head_error": error,
    }


def _thread_context(
    request: TenantRequest, conversation: Conversation, reply: dict[str, Any] | None = None
) -> dict[str, Any]:
    before = request.GET.get("before") or None
    try:
        shown, earlier = conversation_messages_page(
            conversation_id=conversation.pk, before=before, limit=THREAD_PAGE_SIZE
        )
    except DomainError:
        shown, earlier = conversation_messages_page(conversation_id=conversation.pk, limit=THREAD_PAGE_SIZE)
        before = None
    return {
        "section": "inbox",
        **_list_context(request),
        "current_id": conversation.pk,
        **_head_context(conversation, request),
        "items": _render_messages(shown),
        "earlier_query": urlencode({"before": earlier}) if earlier else "",
        "browsing_earlier": bool(before),
        "poll_query": _poll_query(shown),
        "reply": reply or _reply_state(conversation, request.GET if "template" in request.GET else None),
    }


@tenant_console_view(area="inbox")
@require_GET
def thread(request: TenantRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    return render(request, "console/inbox/thread.html", _thread_context(request, conversation))


def _int_param(request: TenantRequest, name: str) -> int:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else 0


@tenant_console_view(area="inbox")
@require_GET
def thread_updates(request: TenantRequest, conversation_id: int) -> HttpResponse:
    """What changed since the reader's last look: new messages and moved ticks. 204 when nothing did."""
    if not Conversation.objects.filter(pk=conversation_id).exists():
        raise Http404("No such conversation in this workspace.")
    after, first = _int_param(request, "after"), _int_param(request, "first")
    try:
        since = datetime.fromisoformat(request.GET.get("since", "")) if request.GET.get("since") else None
    except ValueError:
        since = None
    if since is not None and since.tzinfo is None:
        since = None
    new, changed = conversation_messages_changed(conversation_id=conversation_id, after_id=after, since=since)
    changed = [m for m in changed if m.pk >= first]
    if not new and not changed:
        return HttpResponse(status=204)
    return render(
        request,
        "console/inbox/_updates.html",
        {
            "conversation_id": conversation_id,
            "new_items": _render_messages(new),
            "changed_items": _render_messages(changed),
            "poll_query": _poll_query([*new, *changed], after=after, since=since, first=first),
        },
    )


@tenant_console_view(area="inbox")
@require_GET
def template_form(request: TenantRequest, conversation_id: int) -> HttpResponse:
    """The template part of the reply box for the chosen template, with its fields and preview."""
    conversation = _conversation_or_404(conversation_id)
    return render(
        request,
        "console/inbox/_template_form.html",
        {"conversation": conversation, "reply": _reply_state(conversation, request.GET)},
    )


@tenant_console_view(area="inbox")
@require_POST
def reply(request: TenantRequest, conversation_id: int) -> HttpResponseBase:
    """Send what the reply box holds through `message_send`; on error show it and keep the text."""
    conversation = _conversation_or_404(conversation_id)
    state = _reply_state(conversation, request.POST)
    try:
        content = _reply_content(state, request.POST)
        message_send(
            phone_number_id=conversation.phone_number.phone_number_id,
            to=conversation.contact.wa_id,
            content=content,
        )
    except DomainError as error:
        state["errors"] = queries.error_lines(error)
        if _from_htmx(request):
            return render(
                request, "console/inbox/_reply.html", {"conversation": conversation, "reply": state}
            )
        return render(
            request, "console/inbox/thread.html", _thread_context(request, conversation, state), status=422
        )
    if _from_htmx(request):
        response = render(
            request,
            "console/inbox/_reply.html",
            {"conversation": conversation, "reply": _reply_state(conversation), "sent": True},
        )
        response["HX-Trigger"] = "inbox-refresh"
        return response
    messages.success(request, "Message queued for sending.")
    return redirect("console:inbox-thread", conversation_id=conversation.pk)


class ReplyIncomplete(DomainError):
    code = "reply_incomplete"
    status = 422


def _reply_content(state: dict[str, Any], data: QueryDict) -> dict[str, Any]:
    values = state["values"]
    if state["kind"] == "template":
        template: MessageTemplate | None = state["template"]
        if template is None:
            raise ReplyIncomplete("Choose a template to send.")
        parameters = {
            key: data.get(key, "") for key in data if key.startswith(("header_", "body_", "button_"))
        }
        return queries.template_content(template, parameters)
    if state["kind"] == "media":
        if values["media_type"] not in meta.MEDIA_MESSAGE_TYPES or not values["media_ref"].strip():
            raise ReplyIncomplete("Give the media's type and its link (or the id of media uploaded to Meta).")
        return queries.media_content(
            media_type=values["media_type"], reference=values["media_ref"], caption=values["caption"]
        )
    if not values["text"].strip():
        raise ReplyIncomplete("Type a message to send.")
    return queries.text_content(values["text"])


# --- the agent's actions -------------------------------------------------------------------------


def _action_done(
    request: TenantRequest, conversation_id: int, *, error: DomainError | None = None, success: str = ""
) -> HttpResponseBase:
    """PRG for plain forms; the refreshed thread head for htmx."""
    if _from_htmx(request):
        conversation = _conversation_or_404(conversation_id)
        return render(
            request,
            "console/inbox/_thread_head.html",
            _head_context(conversation, request, error.message if error else ""),
        )
    if error is not None:
        messages.error(request, error.message)
    elif success:
        messages.success(request, success)
    return redirect("console:inbox-thread", conversation_id=conversation_id)


@tenant_console_view(area="inbox")
@require_POST
def handoff(request: TenantRequest, conversation_id: int) -> HttpResponseBase:
    """Take the conversation over from the automations (`open`) or give it back (`close`)."""
    conversation = _conversation_or_404(conversation_id)
    who = request.user.get_username()
    try:
        if request.POST.get("action") == "close":
            current = handoff_open_for(contact=conversation.contact, phone_number=conversation.phone_number)
            if current is None:
                raise HandoffAlreadyClosed("The bot already handles this conversation.")
            handoff_close(handoff=current, closed_by=who)
            done = "Handed back to the bot."
        else:
            handoff_open(
                contact=conversation.contact,
                phone_number=conversation.phone_number,
                opened_by=HumanHandoff.OpenedBy.BUSINESS,
                reason=f"Taken over by {who} in the inbox",
            )
            done = "You took over: automations stay silent until you hand it back."
    except DomainError as error:
        return _action_done(request, conversation.pk, error=error)
    return _action_done(request, conversation.pk, success=done)


@tenant_console_view(area="inbox")
@require_POST
def assign(request: TenantRequest, conversation_id: int) -> HttpResponseBase:
    conversation = _conversation_or_404(conversation_id)
    raw = request.POST.get("user", "")
    try:
        user_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
        if raw and user_id is None:
            raise queries.AssigneeNotFound("No such active user in this workspace.")
        queries.conversation_assign(conversation=conversation, user_id=user_id)
    except DomainError as error:
        return _action_done(request, conversation.pk, error=error)
    return _action_done(request, conversation.pk, success="Assignment saved.")


@tenant_console_view(area="inbox")
@require_POST
def mark_read(request: TenantRequest, conversation_id: int) -> HttpResponseBase:
    """Mark the customer's messages read; Meta sends them the blue ticks."""
    conversation = _conversation_or_404(conversation_id)
    try:
        conversation_mark_read(conversation=conversation)
    except DomainError as error:
        return _action_done(request, conversation.pk, error=error)
    return _action_done(request, conversation.pk, success="Marked as read.")


@tenant_console_view(area="inbox")
@require_GET
def media(request: TenantRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """The stored file of an inbound message of this conversation (kept when it arrived; fetched now if not yet)."""
    message = (
        Message.objects.select_related("phone_number__account")
        .filter(pk=message_id, conversation_id=conversation_id)
        .first()
    )
    if message is None:
        raise Http404("No such message in this conversation.")
    try:
        stored = message_media_fetch(message=message)
    except DomainError as error:
        return HttpResponse(
            error.message, status=error.status if error.status in (404, 409, 410) else 502, content_type="text/plain"
        )
    try:
        content = message_media_content(media=stored)
    except DomainError as error:
        return HttpResponse(error.message, status=502, content_type="text/plain")
    response = HttpResponse(content, content_type=stored.mime_type)
    filename = (message.content or {}).get("filename")
    safe = "".join(ch for ch in str(filename or "") if ch.isprintable() and ch not in '"\\/\r\n')[:200]
    response["Content-Disposition"] = f'attachment; filename="{safe}"' if safe else "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@tenant_console_view(area="inbox")
@require_POST
def media_retry(request: TenantRequest, conversation_id: int, message_id: int) -> HttpResponseBase:
    """Start keeping a message's media over after the attempts failed."""
    message = Message.objects.filter(pk=message_id, conversation_id=conversation_id).first()
    if message is None:
        raise Http404("No such message in this conversation.")
    try:
        inbound_media_retry(message=message)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Fetching the media again.")
    return redirect(f"{reverse('console:inbox-thread', args=[conversation_id])}#msg-{message_id}")


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/list/", inbox_list, name="inbox-list"),
    path("inbox/<int:conversation_id>/", thread, name="inbox-thread"),
    path("inbox/<int:conversation_id>/updates/", thread_updates, name="inbox-updates"),
    path("inbox/<int:conversation_id>/template/", template_form, name="inbox-template"),
    path("inbox/<int:conversation_id>/reply/", reply, name="inbox-reply"),
    path("inbox/<int:conversation_id>/handoff/", handoff, name="inbox-handoff"),
    path("inbox/<int:conversation_id>/assign/", assign, name="inbox-assign"),
    path("inbox/<int:conversation_id>/read/", mark_read, name="inbox-read"),
    path("inbox/<int:conversation_id>/media/<int:message_id>/", media, name="inbox-media"),
    path("inbox/<int:conversation_id>/media/<int:message_id>/retry/", media_retry, name="inbox-media-retry"),
]
