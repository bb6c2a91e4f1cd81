"""What a workflow is: a pydantic schema for the JSON stored in `Workflow.definition`.

    {"start": "ask_quantity",
     "steps": {
       "ask_quantity": {
         "send": {"text": "How many {product_title} would you like?"},
         "input": {"type": "text", "validator": "positive_integer", "save_as": "quantity",
                   "next": "summary"}},
       "summary": {"action": "order_summary", "send": {"template": "order_confirm"},
                   "input": {"type": "choice", "choices": [{"id": "confirm", "next": "place"},
                                                             {"id": "edit", "next": "ask_quantity"}]}},
       "place": {"action": "create_order", "send": {"text": "Order #{order_id} confirmed."}}}}

Entering a step: `set` merges into the context, `action` runs (its result merges too; on
failure its message is sent and `on_error` is entered, or the workflow ends), `send` goes out,
then the step waits for `input`, moves on to `next`, or (with neither) completes the workflow.

A choice input matches the id of a tapped button or row, or a typed text equal to its title.
`accept_offered` accepts any option the step's own message offered (lists built from data),
saving its id in `save_as` and its title in `<save_as>_title`. A choice may go to a step
(`next`), start another workflow (`workflow`) or finish (`end`).

`definition_problems` checks the structure, that every step named exists, and that every
action, renderer and validator is registered. Template and workflow names are data: the
service checks them against the database.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from automations.registry import WORKFLOW_ACTIONS, WORKFLOW_RENDERERS
from automations.validators import VALIDATORS

NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FlowSend(_Strict):
    """A WhatsApp Flow (flows_builder) sent by its name, through the send pipeline."""

    name: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1)
    cta: str = Field(default="Open", min_length=1)


class Send(_Strict):
    """Exactly one of: a workflow template, a text, a renderer, a WhatsApp Flow."""

    template: str | None = None
    text: str | None = Field(default=None, min_length=1)
    render: str | None = None
    flow: FlowSend | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Send:
        given = [name for name in ("template", "text", "render", "flow") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of template, text, render or flow (got {', '.join(given) or 'none'})")
        return self


class Choice(_Strict):
    id: str = Field(min_length=1, max_length=200)
    next: str | None = None
    workflow: str | None = None
    end: bool = False
    set: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_target(self) -> Choice:
        targets = [name for name in ("next", "workflow") if getattr(self, name)] + (["end"] if self.end else [])
        if len(targets) != 1:
            raise ValueError(f"choice {self.id!r} needs exactly one of next, workflow or end")
        return self


class Input(_Strict):
    type: Literal["choice", "text"]
    choices: list[Choice] = Field(default_factory=list)
    accept_offered: bool = False
    validator: str | None = None
    save_as: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
    next: str | None = None
    reprompt: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Input:
        if self.type == "text":
            if not self.validator:
                raise ValueError("a text input needs a validator (e.g. any_text, positive_integer)")
            if self.choices or self.accept_offered:
                raise ValueError("a text input takes no choices")
            if not self.next:
                raise ValueError("a text input needs next")
        else:
            if self.validator:
                raise ValueError("a choice input takes no validator")
            if not self.choices and not self.accept_offered:
                raise ValueError("a choice input needs choices or accept_offered")
            if self.accept_offered and not self.next:
                raise ValueError("accept_offered needs next")
            ids = [choice.id for choice in self.choices]
            duplicates = sorted({choice_id for choice_id in ids if ids.count(choice_id) > 1})
            if duplicates:
                raise ValueError(f"duplicate choice ids: {', '.join(duplicates)}")
        return self


class Step(_Strict):
    set: dict[str, Any] = Field(default_factory=dict)
    action: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    on_error: str | None = None
    send: Send | None = None
    input: Input | None = None
    next: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Step:
        if self.input is not None and self.next:
            raise ValueError("a step waits for input or goes on to next, not both")
        return self


class WorkflowDefinition(_Strict):
    start: str
    steps: dict[str, Step] = Field(min_length=1)

    def step(self, name: str) -> Step:
        return self.steps[name]

    def referenced_templates(self) -> set[str]:
        return {step.send.template for step in self.steps.values() if step.send and step.send.template}

    def referenced_workflows(self) -> set[str]:
        return {
            choice.workflow
            for step in self.steps.values() if step.input
            for choice in step.input.choices if choice.workflow
        }


def definition_parse(data: Any) -> tuple[WorkflowDefinition | None, list[dict[str, str]]]:
    """The parsed definition and [] when valid; (None, problems) otherwise."""
    try:
        definition = WorkflowDefinition.model_validate(data)
    except ValidationError as error:
        return None, [
            {"field": ".".join(str(part) for part in item["loc"]) or "definition", "message": item["msg"]}
            for item in error.errors()
        ]
    return definition, _reference_problems(definition)


def _reference_problems(definition: WorkflowDefinition) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []

    def need_step(field: str, name: str | None) -> None:
        if name and name not in definition.steps:
            problems.append({"field": field, "message": f"no step named {name!r}"})

    need_step("start", definition.start)
    for name, step in definition.steps.items():
        where = f"steps.{name}"
        if not _valid_name(name):
            problems.append({"field": where, "message": "step names use letters, digits, _ . : -"})
        need_step(f"{where}.next", step.next)
        need_step(f"{where}.on_error", step.on_error)
        if step.action and step.action not in WORKFLOW_ACTIONS:
            problems.append({"field": f"{where}.action", "message": _unknown("action", step.action, WORKFLOW_ACTIONS)})
        if step.send and step.send.render and step.send.render not in WORKFLOW_RENDERERS:
            problems.append({"field": f"{where}.send.render",
                             "message": _unknown("renderer", step.send.render, WORKFLOW_RENDERERS)})
        if step.input is None:
            continue
        need_step(f"{where}.input.next", step.input.next)
        if step.input.validator and step.input.validator not in VALIDATORS:
            problems.append({"field": f"{where}.input.validator",
                             "message": _unknown("validator", step.input.validator, VALIDATORS)})
        for index, choice in enumerate(step.input.choices):
            need_step(f"{where}.input.choices[{index}].next", choice.next)
    problems.extend(_auto_loops(definition))
    return problems


def _auto_loops(definition: WorkflowDefinition) -> list[dict[str, str]]:
    """Steps chained by `next` without input must not come back to themselves: that never waits."""
    problems = []
    for name in definition.steps:
        seen, current = {name}, definition.steps[name].next
        while current and current in definition.steps and definition.steps[current].input is None:
            if current in seen:
                problems.append({"field": f"steps.{name}.next",
                                 "message": "steps linked by next without input form a loop"})
                break
            seen.add(current)
            current = definition.steps[current].next
    return problems


def _valid_name(name: str) -> bool:
    return re.fullmatch(NAME_PATTERN, name) is not None


def _unknown(kind: str, name: str, known: dict[str, Any]) -> str:
    return f"unknown {kind} {name!r}; known: {', '.join(sorted(known)) or 'none'}"
