"""The console inbox's reads and small writes (tenant schema): the conversation list with its filters
and keyset cursor, assignment, and turning the reply box into `message_send` content.

The list joins messaging with automations (a conversation handed to a person), which is why it
lives here and not in messaging, which must not know about handoffs.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from automations.models import HumanHandoff
from messaging.models import Conversation, Message
from messaging.selectors import conversations_last_message
from platform_core.api import PG_BIGINT_MAX
from platform_core.errors import DomainError
from team.selectors import account_ids_visible_to
from waba import meta
from waba.models import MessageTemplate

PAGE_SIZE = 30

FILTERS: dict[str, str] = {
    "all": "All",
    "unread": "Unread",
    "handoff": "Handed to a person",
    "mine": "Assigned to me",
    "window": "Window open",
}

# Headers whose parameter is a file given by link (a LOCATION header's is not asked for here).
MEDIA_HEADER_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT"})

MEDIA_LABELS = {
    "image": "Photo",
    "video": "Video",
    "audio": "Audio",
    "document": "Document",
    "sticker": "Sticker",
}


class InvalidInboxCursor(DomainError):
    code = "invalid_cursor"
    status = 400


class AssigneeNotFound(DomainError):
    code = "assignee_not_found"
    status = 404


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    last_message: Message | None
    handed_off: bool


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    next_cursor: str | None


def _open_handoff() -> Exists:
    return Exists(
        HumanHandoff.objects.filter(
            contact_id=OuterRef("contact_id"),
            phone_number_id=OuterRef("phone_number_id"),
            closed_at__isnull=True,
        )
    )


def _sort_keys() -> Any:  # a queryset with the sort keys annotated
    return Conversation.objects.annotate(
        sort_at=Coalesce("last_message_at", "created_at"),
        has_unread=Case(
            When(unread_count__gt=0, then=Value(1)), default=Value(0), output_field=IntegerField()
        ),
    )


def inbox_conversations(
    *,
    user_id: int | None,
    search: str = "",
    filter_key: str = "all",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> InboxPage:
    """Unread conversations first, then the most recent; one page of at most `limit` rows, of the
    accounts the user may see (`team.selectors.account_ids_visible_to`).

    The page's ids are chosen on the conversation table alone (a top-N sort of narrow rows), and
    only those rows are then loaded with their contact, number, assignee, handoff and last message.
    """
    conversations = _sort_keys()
    account_ids = account_ids_visible_to(user_id=user_id)
    if account_ids is not None:
        conversations = conversations.filter(phone_number__account_id__in=account_ids)
    search = search.strip()
    if search:
        matches = Q(contact__profile_name__icontains=search)
        digits = "".join(ch for ch in search if ch.isdigit())
        if digits:
            matches |= Q(contact__wa_id__contains=digits)
        conversations = conversations.filter(matches)
    if filter_key == "unread":
        conversations = conversations.filter(unread_count__gt=0)
    elif filter_key == "handoff":
        conversations = conversations.filter(_open_handoff())
    elif filter_key == "mine":
        conversations = conversations.filter(assigned_to_id=user_id)
    elif filter_key == "window":
        conversations = conversations.filter(service_window_expires_at__gt=timezone.now())
    if cursor:
        unread, at, pk = inbox_cursor_decode(cursor)
        conversations = conversations.filter(
            Q(has_unread__lt=unread)
            | Q(has_unread=unread, sort_at__lt=at)
            | Q(has_unread=unread, sort_at=at, id__lt=pk)
        )
    keys = list(
        conversations.order_by("-has_unread", "-sort_at", "-id").values_list("id", "has_unread", "sort_at")[
            : limit + 1
        ]
    )
    next_cursor = None
    if len(keys) > limit:
        last_pk, last_unread, last_at = keys[limit - 1]
        next_cursor = inbox_cursor_encode(last_unread, last_at, last_pk)
    keys = keys[:limit]
    loaded = Conversation.objects.select_related("contact", "phone_number", "assigned_to").in_bulk(
        [pk for pk, _, _ in keys]
    )
    page = []
    for pk, _, sort_at in keys:
        conversation: Any = loaded[pk]
        conversation.sort_at = sort_at
        page.append(conversation)
    handed_off = (
        set(
            HumanHandoff.objects.filter(
                closed_at__isnull=True, contact_id__in=[c.contact_id for c in page]
            ).values_list("contact_id", "phone_number_id")
        )
        if page
        else set()
    )
    newest = conversations_last_message(conversation_ids=[conversation.pk for conversation in page])
    rows = [InboxRow(c, newest.get(c.pk), (c.contact_id, c.phone_number_id) in handed_off) for c in page]
    return InboxPage(rows=rows, next_cursor=next_cursor)


def inbox_conversation_get(*, conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.select_related("contact", "phone_number__account", "assigned_to")
        .filter(pk=conversation_id)
        .first()
    )


def inbox_conversation_visible(*, conversation_id: int, account_ids: frozenset[int]) -> bool:
    """Whether the conversation is on a number of one of `account_ids`."""
    return Conversation.objects.filter(pk=conversation_id, phone_number__account_id__in=account_ids).exists()


def inbox_cursor_encode(unread: int, at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([unread, at.isoformat(), pk]).encode()).decode().rstrip("=")


def inbox_cursor_decode(cursor: str) -> tuple[int, datetime, int]:
    try:
        raw: Any = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        unread, at, pk = int(raw[0]), datetime.fromisoformat(raw[1]), int(raw[2])
        if unread not in (0, 1) or at.tzinfo is None or not 0 < pk <= PG_BIGINT_MAX:
            raise ValueError("not an inbox cursor")
    except (binascii.Error, ValueError, TypeError, IndexError, KeyError, OverflowError, RecursionError):
        raise InvalidInboxCursor("That page link is not valid any more; start from the first page.") from None
    return unread, at.astimezone(UTC), pk


def message_snippet(message: Message | None) -> str:
    """A short line for the list: the words of the message, or what kind of message it is."""
    if message is None:
        return ""
    if message.body:
        return message.body[:120]
    if message.type in MEDIA_LABELS:
        return MEDIA_LABELS[message.type]
    labels = {
        "location": "Location",
        "contacts": "Contact card",
        "reaction": "Reaction",
        "template": "Template",
        "interactive": "Interactive message",
        "order": "Order",
    }
    return labels.get(message.type, message.type.replace("_", " ").capitalize())


# --- assignment ---------------------------------------------------------------------------------


def assignable_users() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True).order_by("username").only("id", "username")


def conversation_assign(*, conversation: Conversation, user_id: int | None) -> Conversation:
    """Give the conversation to an active user of this workspace (None: to nobody)."""
    user: AbstractBaseUser | None = None
    if user_id is not None:
        user = assignable_users().filter(pk=user_id).first()
        if user is None:
            raise AssigneeNotFound("No such active user in this workspace.")
    Conversation.objects.filter(pk=conversation.pk).update(assigned_to=user)
    conversation.assigned_to = user  # type: ignore[assignment]
    return conversation


# --- the reply box ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateField:
    name: str
    label: str
    value: str = ""


@dataclass
class TemplatePreview:
    header: str = ""
    header_media: str = ""
    body: str = ""
    footer: str = ""
    buttons: list[str] = field(default_factory=list)


def approved_templates(*, conversation: Conversation) -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.filter(
        account_id=conversation.phone_number.account_id, status=meta.TemplateStatus.APPROVED
    ).order_by("name", "language")


def _components(template: MessageTemplate) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for component in template.components or []:
        if isinstance(component, dict) and component.get("type"):
            found.setdefault(str(component["type"]).upper(), component)
    return found


def _header_format(template: MessageTemplate) -> str:
    return str((_components(template).get("HEADER") or {}).get("format") or "TEXT").upper()


def _button_counts(template: MessageTemplate) -> dict[int, int]:
    counts = (template.parameter_counts or {}).get("buttons") or {}
    return {int(index): int(count) for index, count in counts.items()}


def template_fields(template: MessageTemplate, values: Mapping[str, str]) -> list[TemplateField]:
    """One input per parameter the template takes, with what the person typed so far."""
    fields: list[TemplateField] = []
    header_count = int((template.parameter_counts or {}).get("header") or 0)
    header_format = _header_format(template)
    if header_format in MEDIA_HEADER_FORMATS:
        fields.append(
            TemplateField("header_1", f"Header {header_format.lower()} (link)", values.get("header_1", ""))
        )
    else:
        for n in range(1, header_count + 1):
            fields.append(TemplateField(f"header_{n}", f"Header {{{{{n}}}}}", values.get(f"header_{n}", "")))
    for n in range(1, template.variable_count + 1):
        fields.append(TemplateField(f"body_{n}", f"Body {{{{{n}}}}}", values.get(f"body_{n}", "")))
    for index, count in sorted(_button_counts(template).items()):
        for n in range(1, count + 1):
            name = f"button_{index}_{n}"
            fields.append(TemplateField(name, f"Button {index + 1} {{{{{n}}}}}", values.get(name, "")))
    return fields


def _fill(text: str, values: Sequence[str]) -> str:
    def replace(match: Any) -> str:
        index = int(match.group(1)) - 1
        return values[index] if 0 <= index < len(values) and values[index] else match.group(0)

    return meta.TEMPLATE_BODY_VARIABLE_PATTERN.sub(replace, text)


def template_preview(template: MessageTemplate, values: Mapping[str, str]) -> TemplatePreview:
    """The template as the customer will see it, parameters filled where given."""
    components = _components(template)
    header = components.get("HEADER") or {}
    header_count = int((template.parameter_counts or {}).get("header") or 0)
    preview = TemplatePreview()
    if _header_format(template) in MEDIA_HEADER_FORMATS:
        preview.header_media = _header_format(template).lower()
    else:
        preview.header = _fill(
            str(header.get("text") or ""), [values.get(f"header_{n}", "") for n in range(1, header_count + 1)]
        )
    preview.body = _fill(
        str((components.get("BODY") or {}).get("text") or ""),
        [values.get(f"body_{n}", "") for n in range(1, template.variable_count + 1)],
    )
    preview.footer = str((components.get("FOOTER") or {}).get("text") or "")
    preview.buttons = [
        str(button.get("text") or "") for button in (components.get("BUTTONS") or {}).get("buttons") or []
    ]
    return preview


def template_content(template: MessageTemplate, values: Mapping[str, str]) -> dict[str, Any]:
    """The `message_send` content of a template send from the reply box's fields."""
    header_format = _header_format(template)
    header_count = int((template.parameter_counts or {}).get("header") or 0)
    header: list[Any] = []
    if header_format in MEDIA_HEADER_FORMATS:
        link = values.get("header_1", "").strip()
        if link:
            kind = header_format.lower()
            header = [{"type": kind, kind: {"link": link}}]
    else:
        header = [values.get(f"header_{n}", "") for n in range(1, header_count + 1)]
    buttons = []
    components = _components(template)
    template_buttons = (components.get("BUTTONS") or {}).get("buttons") or []
    for index, count in sorted(_button_counts(template).items()):
        sub_type = (
            str(template_buttons[index].get("type", "url")).lower()
            if index < len(template_buttons)
            else "url"
        )
        buttons.append(
            {
                "index": index,
                "sub_type": sub_type,
                "parameters": [values.get(f"button_{index}_{n}", "") for n in range(1, count + 1)],
            }
        )
    return {
        "type": "template",
        "template": {
            "name": template.name,
            "language": template.language,
            "header_parameters": header,
            "body_parameters": [values.get(f"body_{n}", "") for n in range(1, template.variable_count + 1)],
            "buttons": buttons,
        },
    }


def text_content(text: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": text, "preview_url": "http://" in text or "https://" in text}}


def media_content(*, media_type: str, reference: str, caption: str = "") -> dict[str, Any]:
    """A media reply by link (http(s) URL) or by a media id already uploaded to Meta."""
    reference = reference.strip()
    media: dict[str, Any] = (
        {"link": reference} if reference.lower().startswith(("http://", "https://")) else {"id": reference}
    )
    if caption.strip() and media_type in meta.MEDIA_CAPTIONED_TYPES:
        media["caption"] = caption
    return {"type": media_type, media_type: media}


def error_lines(error: DomainError) -> list[str]:
    """The error's message and, for validation errors, each problem it lists."""
    lines = [error.message]
    details = error.details
    if isinstance(details, list):
        for problem in details:
            if isinstance(problem, dict) and problem.get("message"):
                where = f"{problem['field']}: " if problem.get("field") else ""
                line = f"{where}{problem['message']}"
                if line not in lines:
                    lines.append(line)
    return lines
