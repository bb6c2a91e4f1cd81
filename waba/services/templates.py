"""Message templates: create and submit to Meta, delete, sync from Meta, and count their variables.

A template's review result arrives later (webhook `message_template_status_update`, applied by
`waba.services.events`, or a sync). Meta's answer is always what the stored status reflects.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from django.db import transaction
from django.utils import timezone
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from waba import meta, template_rules
from waba.errors import (
    AccountNotReady,
    FieldsInvalid,
    TemplateExists,
    TemplateNotEditable,
    TemplateNotSubmittable,
)
from waba.graph import GraphPermanentError
from waba.models import MessageTemplate, TemplateEdit, WhatsAppAccount
from waba.services.credentials import meta_call, secret_value
from waba.validation import StrictInput, fields_parse

TemplateStatus = meta.TemplateStatus
ALREADY_EXISTS_SUBCODE = 2388024  # Meta: "content in this language already exists"
SUBMITTABLE = {"DRAFT", TemplateStatus.DELETED.value}


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _known_language(value: str) -> str:
    if value not in meta.TEMPLATE_LANGUAGES:
        raise ValueError("Not a language Meta supports for templates (e.g. en_US, de, pt_BR).")
    return value


class TemplateInput(StrictInput):
    name: Annotated[str, StringConstraints(max_length=meta.TEMPLATE_NAME_MAX_CHARS, pattern=meta.TEMPLATE_NAME_PATTERN.pattern)]
    language: Annotated[str, AfterValidator(_known_language)]
    category: Annotated[Literal["MARKETING", "UTILITY", "AUTHENTICATION"], BeforeValidator(_upper)]
    components: Annotated[list[dict[str, Any]], Field(min_length=1)]


# --- components --------------------------------------------------------------------------------


def _component(components: list[dict], kind: str) -> tuple[int, dict] | tuple[None, None]:
    for index, component in enumerate(components):
        if str(component.get("type", "")).upper() == kind:
            return index, component
    return None, None


def template_variables(text: Any) -> list[str]:
    """Distinct `{{...}}` placeholders of a text, in order of first appearance."""
    if not isinstance(text, str):
        return []
    return list(dict.fromkeys(meta.TEMPLATE_ANY_VARIABLE_PATTERN.findall(text)))


def template_parameter_counts(components: list[dict]) -> dict[str, Any]:
    """What a send must fill: `{"body": n, "header": n, "buttons": {"<index>": n}}`.

    `header` is present when the header needs parameters (its text variables, or 1 for a media
    header); `buttons` when a URL button has a variable in its URL or a code button needs one.
    """
    counts: dict[str, Any] = {"body": 0}
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, dict):
            continue
        kind = str(component.get("type", "")).upper()
        if kind == "BODY":
            counts["body"] = len(template_variables(component.get("text")))
        elif kind == "HEADER":
            header_format = str(component.get("format", "TEXT")).upper()
            header = len(template_variables(component.get("text"))) if header_format == "TEXT" else 1
            if header:
                counts["header"] = header
        elif kind == "BUTTONS":
            buttons = {}
            for index, button in enumerate(component.get("buttons") or []):
                button_type = str((button or {}).get("type", "")).upper()
                needed = len(template_variables((button or {}).get("url"))) if button_type == "URL" else 0
                if button_type in ("COPY_CODE", "OTP"):
                    needed = 1
                if needed:
                    buttons[str(index)] = needed
            if buttons:
                counts["buttons"] = buttons
    return counts


def template_components_check(*, components: list[dict], category: str) -> list[dict]:
    """Meta's component rules (`waba.template_rules`): per-field errors, empty when acceptable."""
    return template_rules.components_errors(components=components, category=category)


# --- writes ----------------------------------------------------------------------------------------


def _require_credentials(account: WhatsAppAccount) -> None:
    if not account.waba_id or not secret_value(account.access_token):
        raise AccountNotReady(
            f"The WhatsApp account {account.pk} needs its WABA id and access token (setup steps 1 and 3) "
            "before templates can go to Meta."
        )


def template_create(*, account: WhatsAppAccount, data: Any, submit: bool = True) -> MessageTemplate:
    """Validate a template and (with `submit`) send it to Meta for review: stored PENDING with
    Meta's id. Without `submit` it is stored as a DRAFT. Meta is asked first: a refusal stores nothing.
    """
    values = fields_parse(TemplateInput, data)
    _rules_enforce(components=values.components, category=values.category)
    if MessageTemplate.objects.filter(account=account, name=values.name, language=values.language).exists():
        raise TemplateExists(
            f"The template {values.name} ({values.language}) already exists for this account.",
            details=[{"field": "name", "message": "already exists in this language", "type": "template_exists"}],
        )
    template = MessageTemplate(
        account=account,
        name=values.name,
        language=values.language,
        category=values.category,
        components=values.components,
        status="DRAFT",
    )
    _counts_set(template)
    if submit:
        _submit(template)
    template.save()
    return template


def template_submit(*, template: MessageTemplate) -> MessageTemplate:
    """Send a DRAFT (or a template Meta deleted) for review again."""
    if template.status not in SUBMITTABLE:
        raise TemplateNotSubmittable(
            f"The template is {template.status}; only DRAFT or DELETED templates can be submitted. "
            "Create a new template (or a new language) to change an existing one.",
        )
    _rules_enforce(components=template.components, category=template.category)
    _submit(template)
    template.save()
    return template


def _rules_enforce(*, components: list[dict], category: str) -> None:
    errors = template_components_check(components=components, category=category)
    if errors:
        raise FieldsInvalid("The template breaks Meta's rules.", details=errors)


def _submit(template: MessageTemplate) -> None:
    account = template.account
    _require_credentials(account)
    named = template_rules.parameter_format(template.components) == template_rules.NAMED
    with meta_call(account=account, doing="create the template") as client:
        try:
            answer = client.create_template(
                account.waba_id,
                template.name,
                template.language,
                template.category,
                template.components,
                parameter_format=template_rules.NAMED if named else None,
            )
        except GraphPermanentError as error:
            if error.subcode == ALREADY_EXISTS_SUBCODE:
                raise TemplateExists(
                    f"Meta already has {template.name} in {template.language}. Sync the templates to see it.",
                    details=[{"field": "name", "message": error.message, "type": "template_exists"}],
                ) from None
            raise
    template.meta_template_id = str(answer.get("id") or "")
    template.status = str(answer.get("status") or TemplateStatus.PENDING).upper()
    template.category = str(answer.get("category") or template.category).upper()
    template.rejection_reason = ""


def template_edit(*, template: MessageTemplate, components: Any, category: str | None = None) -> MessageTemplate:
    """Change a template's components (and category while not approved).

    A DRAFT changes here only. APPROVED, REJECTED and PAUSED templates are edited on Meta
    (`POST /{template_id}`) and go back to review (PENDING); an approved one at most
    `TEMPLATE_EDITS_PER_DAY` times per 24 hours and `TEMPLATE_EDITS_PER_MONTH` per 30 days.
    """
    category = str(category or template.category).upper()
    if category not in meta.TemplateCategory.__members__:
        raise FieldsInvalid(
            "Unknown category.",
            details=[{"field": "category", "message": f"Must be one of {', '.join(meta.TemplateCategory)}.", "type": "value_error"}],
        )
    draft = template.status == "DRAFT"
    if not draft and template.status not in meta.TEMPLATE_EDITABLE_STATUSES:
        raise TemplateNotEditable(
            f"The template is {template.status}; Meta allows editing APPROVED, REJECTED or PAUSED templates."
        )
    if template.status == TemplateStatus.APPROVED and category != template.category:
        raise TemplateNotEditable(
            "The category of an approved template cannot be changed.",
            details=[{"field": "category", "message": "cannot change once approved", "type": "not_editable"}],
        )
    if not isinstance(components, list):
        raise FieldsInvalid("Give a list of components.", details=[{"field": "components", "message": "Give a list of components.", "type": "value_error"}])
    _rules_enforce(components=components, category=category)
    if draft:
        template.components, template.category = components, category
        _counts_set(template)
        template.save()
        return template
    if template.status == TemplateStatus.APPROVED:
        _edit_limits_check(template)
    account = template.account
    _require_credentials(account)
    with meta_call(account=account, doing="edit the template") as client:
        client.edit_template(
            template.meta_template_id,
            components,
            category=category if category != template.category else None,
        )
    with transaction.atomic():
        TemplateEdit.objects.create(template=template, status_before=template.status, components_before=template.components)
        template.components, template.category = components, category
        template.status, template.rejection_reason = TemplateStatus.PENDING.value, ""
        _counts_set(template)
        template.save()
    return template


def _edit_limits_check(template: MessageTemplate) -> None:
    now = timezone.now()
    approved_edits = TemplateEdit.objects.filter(template=template, status_before=TemplateStatus.APPROVED)
    if approved_edits.filter(edited_at__gte=now - timedelta(days=1)).count() >= meta.TEMPLATE_EDITS_PER_DAY:
        raise TemplateNotEditable(
            f"Meta allows {meta.TEMPLATE_EDITS_PER_DAY} edit of an approved template per 24 hours. Try again later."
        )
    if approved_edits.filter(edited_at__gte=now - timedelta(days=30)).count() >= meta.TEMPLATE_EDITS_PER_MONTH:
        raise TemplateNotEditable(
            f"Meta allows {meta.TEMPLATE_EDITS_PER_MONTH} edits of an approved template per 30 days."
        )


def template_copy(*, template: MessageTemplate, language: str) -> MessageTemplate:
    """The same template in another language, as a DRAFT to translate and then submit."""
    data = {"name": template.name, "language": language, "category": template.category, "components": template.components}
    return template_create(account=template.account, data=data, submit=False)


def template_delete(*, template: MessageTemplate) -> None:
    """Delete on Meta (this language only, by its Meta id) and here. A template Meta no longer
    has is simply deleted here.
    """
    if template.meta_template_id:
        account = template.account
        _require_credentials(account)
        with meta_call(account=account, doing="delete the template") as client:
            try:
                client.delete_template(account.waba_id, template.name, hsm_id=template.meta_template_id)
            except GraphPermanentError as error:
                if error.code != meta.ErrorCode.INVALID_PARAMETER:  # 100: Meta does not know it
                    raise
    template.delete()


def _counts_set(template: MessageTemplate) -> None:
    counts = template_parameter_counts(template.components)
    template.parameter_counts = counts
    template.variable_count = counts["body"]


def templates_sync(*, account: WhatsAppAccount, page_size: int = 100) -> dict[str, int]:
    """Make the stored templates match Meta's list (every page): upsert by name and language;
    templates Meta no longer lists are marked DELETED. Returns counts per outcome.
    """
    _require_credentials(account)
    with meta_call(account=account, doing="list the templates") as client:
        remote = list(client.iter_templates(account.waba_id, page_size=page_size))
    now = timezone.now()
    result = {"total": len(remote), "created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
    with transaction.atomic():
        local = {(t.name, t.language): t for t in MessageTemplate.objects.select_for_update().filter(account=account)}
        seen_ids = set()
        for item in remote:
            name, language = str(item.get("name") or ""), str(item.get("language") or "")
            if not name or not language:
                continue
            seen_ids.add(str(item.get("id") or ""))
            template = local.get((name, language))
            outcome = "updated"
            if template is None:
                template = MessageTemplate(account=account, name=name, language=language)
                outcome = "created"
            if not _apply_remote(template, item) and outcome == "updated":
                outcome = "unchanged"
            template.last_synced_at = now
            template.save()
            result[outcome] += 1
        for template in local.values():
            if template.meta_template_id and template.meta_template_id not in seen_ids and template.status != TemplateStatus.DELETED:
                template.status, template.last_synced_at = TemplateStatus.DELETED.value, now
                template.save(update_fields=["status", "last_synced_at", "updated_at"])
                result["deleted"] += 1
    return result


def _apply_remote(template: MessageTemplate, item: dict[str, Any]) -> bool:
    """Copy Meta's fields onto the template; True when something changed."""
    quality = item.get("quality_score")
    reason = str(item.get("rejected_reason") or "")
    values = {
        "meta_template_id": str(item.get("id") or template.meta_template_id),
        "status": str(item.get("status") or template.status).upper(),
        "category": str(item.get("category") or template.category).upper(),
        "components": item.get("components") if isinstance(item.get("components"), list) else template.components,
        "rejection_reason": "" if reason == meta.TEMPLATE_NO_REASON else reason,
        "quality_score": str((quality or {}).get("score") or template.quality_score) if isinstance(quality, dict) else template.quality_score,
    }
    changed = False
    for name, value in values.items():
        if getattr(template, name) != value:
            setattr(template, name, value)
            changed = True
    _counts_set(template)
    return changed
