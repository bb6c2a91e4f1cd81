"""Workflows as data: create, change (a new version each time), delete.

A definition is checked twice: its structure by `menus.definitions` (steps, inputs, registered
actions, renderers and validators), its references here against the tenant's data (the workflow
templates it sends and the workflows it starts must exist).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from automations.definitions import NAME_PATTERN, definition_parse
from automations.errors import InUse, WorkflowInvalid, problems_error
from automations.models import Workflow, WorkflowTemplate, WorkflowVersion
from automations.services.saving import unique_name_save

EDITABLE_FIELDS = ("name", "description", "definition", "is_active", "is_main_menu")


def workflow_problems(*, name: str, definition: Any) -> list[dict[str, str]]:
    """Everything wrong with a workflow, as `{field, message}` items; [] when it can be saved."""
    problems: list[dict[str, str]] = []
    if not re.fullmatch(NAME_PATTERN, name or ""):
        problems.append({"field": "name", "message": "1-100 characters: letters, digits and _ . : - (no spaces)"})
    parsed, definition_problems = definition_parse(definition)
    problems.extend({**item, "field": f"definition.{item['field']}"} for item in definition_problems)
    if parsed is None:
        return problems
    known_templates = set(WorkflowTemplate.objects.filter(
        template_name__in=parsed.referenced_templates()).values_list("template_name", flat=True))
    for step_name, step in parsed.steps.items():
        if step.send and step.send.template and step.send.template not in known_templates:
            problems.append({"field": f"definition.steps.{step_name}.send.template",
                             "message": f"no workflow template named {step.send.template!r}"})
    others = parsed.referenced_workflows() - {name}
    known_workflows = set(Workflow.objects.filter(name__in=others).values_list("name", flat=True))
    for missing in sorted(others - known_workflows):
        problems.append({"field": "definition", "message": f"a choice starts workflow {missing!r}, which does not exist"})
    return problems


def workflow_create(
    *,
    name: str,
    definition: dict[str, Any],
    description: str = "",
    is_active: bool = True,
    is_main_menu: bool = False,
    is_builtin: bool = False,
    changed_by: str = "",
) -> Workflow:
    """Create a workflow (version 1). `is_main_menu` moves the main-menu mark to it."""
    _check(name, definition)
    workflow = Workflow(name=name, definition=definition, description=description, is_active=is_active,
                        is_main_menu=is_main_menu, is_builtin=is_builtin, version=1)
    with transaction.atomic():
        if is_main_menu:
            Workflow.objects.filter(is_main_menu=True).update(is_main_menu=False)
        _save_new_name(workflow)
        _version_record(workflow, changed_by)
    return workflow


def workflow_update(*, workflow: Workflow, changed_by: str = "", **changes: Any) -> Workflow:
    """Apply `changes` (any of EDITABLE_FIELDS). A new definition becomes a new version; running
    conversations continue on it from the step they are in (a step that no longer exists ends them)."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise WorkflowInvalid(f"Unknown fields: {', '.join(unknown)}.",
                              details=[{"field": name, "message": "unknown field"} for name in unknown])
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        old_name, old_definition = locked.name, locked.definition
        for field, value in changes.items():
            setattr(locked, field, value)
        if locked.name != old_name:
            _refuse_if_started_by_others(old_name, "renamed")
        _check(locked.name, locked.definition)
        if changes.get("is_main_menu"):
            Workflow.objects.filter(is_main_menu=True).exclude(pk=locked.pk).update(is_main_menu=False)
        new_version = locked.definition != old_definition or locked.name != old_name
        if new_version:
            locked.version += 1
        _save_new_name(locked)
        if new_version:
            _version_record(locked, changed_by)
    return locked


def workflow_delete(*, workflow: Workflow) -> None:
    """Delete a workflow no other workflow starts. Running conversations in it end on their next
    message (their state keeps the workflow's name); templates that started it become plain menus."""
    with transaction.atomic():
        _refuse_if_started_by_others(workflow.name, "deleted")
        workflow.delete()


def _check(name: str, definition: Any) -> None:
    problems = workflow_problems(name=name, definition=definition)
    if problems:
        raise problems_error(WorkflowInvalid, problems, what="workflow")


def _save_new_name(workflow: Workflow) -> None:
    unique_name_save(workflow, field="name", what="workflow")


def _version_record(workflow: Workflow, changed_by: str) -> None:
    WorkflowVersion.objects.create(workflow=workflow, version=workflow.version, definition=workflow.definition,
                                   changed_by=changed_by[:200])


def _refuse_if_started_by_others(name: str, verb: str) -> None:
    users = []
    for other in Workflow.objects.exclude(name=name).only("name", "definition"):
        parsed, _ = definition_parse(other.definition)
        if parsed is not None and name in parsed.referenced_workflows():
            users.append(other.name)
    if users:
        raise InUse(f"Workflow {name!r} cannot be {verb}: the workflows {', '.join(users)} start it.",
                    details={"workflows": users})
