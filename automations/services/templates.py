"""Workflow templates: named interactive menus, checked with the menu builder's rules, versioned.

Every save that changes something writes a `WorkflowTemplateVersion` snapshot, so the history
answers "what did customers get last Tuesday". Structures are Meta's `interactive` object;
texts may hold `{placeholders}` that `workflow_template_render` fills from a context.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from automations import conf, keywords
from automations.definitions import NAME_PATTERN, definition_parse
from automations.errors import InUse, WorkflowTemplateInvalid, problems_error
from automations.models import Workflow, WorkflowTemplate, WorkflowTemplateVersion
from automations.services.saving import unique_name_save
from messaging.interactive import interactive_problems

MAX_KEYWORDS = 50
KEYWORD_MAX_CHARS = 200
EDITABLE_FIELDS = ("template_name", "description", "type", "trigger_keywords", "match_mode", "priority",
                   "structure", "workflow", "is_active")
PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")
# Texts of an interactive object that placeholders may appear in (never ids).
FILLABLE_KEYS = frozenset({"text", "title", "description", "button", "flow_cta"})


def workflow_template_problems(
    *, template_name: str, type: str, structure: Any, trigger_keywords: Any, match_mode: str
) -> list[dict[str, Any]]:
    """Everything wrong with these values, as `{field, message, ...}` items; [] when valid."""
    problems: list[dict[str, Any]] = []
    if not re.fullmatch(NAME_PATTERN, template_name or ""):
        problems.append({"field": "template_name",
                         "message": "1-100 characters: letters, digits and _ . : - (no spaces)"})
    if type not in WorkflowTemplate.Type.values:
        problems.append({"field": "type", "message": f"must be one of {', '.join(WorkflowTemplate.Type.values)}"})
    if match_mode not in keywords.MATCH_MODES:
        problems.append({"field": "match_mode", "message": f"must be one of {', '.join(keywords.MATCH_MODES)}"})
    problems.extend(_keyword_problems(trigger_keywords, match_mode))
    if isinstance(structure, Mapping) and type in WorkflowTemplate.Type.values and structure.get("type") != type:
        problems.append({"field": "structure.type", "message": f"must be {type!r}, the template's type"})
    for problem in interactive_problems(structure):
        item = problem.as_dict()
        item["field"] = f"structure.{item['field']}".rstrip(".")
        problems.append(item)
    return problems


def _keyword_problems(trigger_keywords: Any, match_mode: str) -> list[dict[str, Any]]:
    if not isinstance(trigger_keywords, list) or not all(isinstance(k, str) for k in trigger_keywords):
        return [{"field": "trigger_keywords", "message": "must be a list of strings"}]
    problems: list[dict[str, Any]] = []
    if len(trigger_keywords) > MAX_KEYWORDS:
        problems.append({"field": "trigger_keywords", "message": f"at most {MAX_KEYWORDS} keywords"})
    for index, keyword in enumerate(trigger_keywords):
        field = f"trigger_keywords[{index}]"
        limit = conf.REGEX_MAX_CHARS if match_mode == keywords.REGEX else KEYWORD_MAX_CHARS
        if len(keyword) > limit:
            problems.append({"field": field, "message": f"at most {limit} characters"})
        elif match_mode == keywords.REGEX:
            problem = keywords.regex_problem(keyword) if keyword else "must not be empty"
            if problem:
                problems.append({"field": field, "message": problem})
        elif not keywords.normalise(keyword):
            problems.append({"field": field, "message": "must contain at least one letter or digit"})
    return problems


def workflow_template_create(
    *,
    template_name: str,
    type: str,
    structure: dict[str, Any],
    trigger_keywords: Sequence[str] = (),
    match_mode: str = WorkflowTemplate.MatchMode.CONTAINS,
    priority: int = 0,
    description: str = "",
    workflow: Workflow | None = None,
    is_active: bool = True,
    changed_by: str = "",
) -> WorkflowTemplate:
    """Create a template (version 1). Raises WorkflowTemplateInvalid (422) or NameTaken (409)."""
    template = WorkflowTemplate(
        template_name=template_name, type=type, structure=structure, trigger_keywords=list(trigger_keywords),
        match_mode=match_mode, priority=priority, description=description, workflow=workflow,
        is_active=is_active, version=1,
    )
    _check(template)
    with transaction.atomic():
        _save_new_name(template)
        _version_record(template, changed_by)
    return template


def workflow_template_update(*, template: WorkflowTemplate, changed_by: str = "", **changes: Any) -> WorkflowTemplate:
    """Apply `changes` (any of EDITABLE_FIELDS); a change that changes nothing writes no version."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise WorkflowTemplateInvalid(f"Unknown fields: {', '.join(unknown)}.",
                                      details=[{"field": name, "message": "unknown field"} for name in unknown])
    with transaction.atomic():
        locked = WorkflowTemplate.objects.select_for_update().get(pk=template.pk)
        before = workflow_template_snapshot(locked)
        old_name = locked.template_name
        for name, value in changes.items():
            setattr(locked, name, list(value) if name == "trigger_keywords" else value)
        if workflow_template_snapshot(locked) == before:
            return locked
        _check(locked)
        if locked.template_name != old_name:
            _refuse_if_used(old_name, "renamed")
        locked.version += 1
        _save_new_name(locked)
        _version_record(locked, changed_by)
    return locked


def workflow_template_delete(*, template: WorkflowTemplate) -> None:
    """Delete a template no workflow sends. Raises InUse (409) naming the workflows otherwise."""
    with transaction.atomic():
        _refuse_if_used(template.template_name, "deleted")
        template.delete()


def workflow_template_render(*, template: WorkflowTemplate, context: Mapping[str, Any]) -> dict[str, Any]:
    """The template's interactive object with `{placeholders}` filled from `context` (unknown ones
    stay as written). The caller validates the result: filled texts may exceed Meta's limits."""
    return _fill(template.structure, context)


def placeholders_of(structure: Any) -> list[str]:
    """Names of the `{placeholders}` in a structure's texts, in order of first use."""
    found: list[str] = []

    def visit(value: Any, key: str | None) -> None:
        if isinstance(value, Mapping):
            for child_key, child in value.items():
                visit(child, child_key)
        elif isinstance(value, list):
            for child in value:
                visit(child, key)
        elif isinstance(value, str) and key in FILLABLE_KEYS:
            found.extend(name for name in PLACEHOLDER.findall(value) if name not in found)

    visit(structure, None)
    return found


def text_fill(text: str, context: Mapping[str, Any]) -> str:
    """`{name}` replaced by `context[name]` for known names; internal keys (`_...`) never show."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(context[name]) if name in context and context[name] is not None else match.group(0)

    return PLACEHOLDER.sub(value, text)


def workflow_template_snapshot(template: WorkflowTemplate) -> dict[str, Any]:
    return {
        "template_name": template.template_name,
        "description": template.description,
        "type": template.type,
        "trigger_keywords": list(template.trigger_keywords or []),
        "match_mode": template.match_mode,
        "priority": template.priority,
        "structure": template.structure,
        "workflow": template.workflow.name if template.workflow else None,
        "is_active": template.is_active,
    }


def _fill(value: Any, context: Mapping[str, Any], key: str | None = None) -> Any:
    if isinstance(value, Mapping):
        return {child_key: _fill(child, context, child_key) for child_key, child in value.items()}
    if isinstance(value, list):
        return [_fill(child, context, key) for child in value]
    if isinstance(value, str) and key in FILLABLE_KEYS:
        return text_fill(value, context)
    return value


def _check(template: WorkflowTemplate) -> None:
    problems = workflow_template_problems(
        template_name=template.template_name, type=template.type, structure=template.structure,
        trigger_keywords=template.trigger_keywords, match_mode=template.match_mode,
    )
    if not isinstance(template.priority, int) or isinstance(template.priority, bool):
        problems.append({"field": "priority", "message": "must be a whole number"})
    if problems:
        raise problems_error(WorkflowTemplateInvalid, problems, what="template")


def _save_new_name(template: WorkflowTemplate) -> None:
    unique_name_save(template, field="template_name", what="workflow template")


def _version_record(template: WorkflowTemplate, changed_by: str) -> None:
    WorkflowTemplateVersion.objects.create(
        template=template, version=template.version, snapshot=workflow_template_snapshot(template),
        changed_by=changed_by[:200],
    )


def workflows_sending(template_name: str) -> list[str]:
    """Names of the workflows with a step that sends this template."""
    users = []
    for workflow in Workflow.objects.only("name", "definition"):
        definition, _ = definition_parse(workflow.definition)
        if definition is not None and template_name in definition.referenced_templates():
            users.append(workflow.name)
    return users


def _refuse_if_used(template_name: str, verb: str) -> None:
    users = workflows_sending(template_name)
    if users:
        raise InUse(
            f"Workflow template {template_name!r} cannot be {verb}: the workflows {', '.join(users)} send it.",
            details={"workflows": users},
        )
