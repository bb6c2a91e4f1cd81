"""The automation engine: one inbound message in, the replies it deserves out.

`automation_handle_inbound(message=...)` runs once per inbound message (an `AutomationRun` row,
unique per message, makes a redelivery a no-op) inside one transaction, holding the row lock of
the contact's conversation: two messages of one contact are handled one after the other, each
seeing the state the previous one left. A batch of messages the webhook worker stored together reads
its contacts' handoffs and states at once (`services.batching`), and writes each run record once
with its outcome (no other transaction can have claimed a message it just stored). In order:

1. a conversation handed to a human gets nothing; reactions, system notices and flow
   responses are not for the engine;
2. the bot settings: greeting on the contact's first message, out-of-hours notice;
3. "menu", "cancel" and "human" (typed, or the ids `menu`, `cancel`, `human`) always work;
4. an active conversation state takes the answer to its step (a tapped option, or text that its
   validator accepts) and moves the workflow on;
5. otherwise a keyword may start a workflow (or send a one-off menu), or send a WhatsApp Flow
   (a published Flow whose trigger keyword matched; an unpublished one starts the conversational
   flow it is linked to); a button of an earlier menu resumes that menu; typed text the knowledge
   base answers confidently gets that answer (a menu waiting for a tap keeps waiting); an active state
   re-prompts, and after three misses offers the main menu or a human; with no state, text that
   matched nothing gets a person when the knowledge base (while on) has no answer it trusts,
   unless the bot has just greeted the contact, else the fallback.

Every reply goes through `replies.reply_send` (the send pipeline) and is recorded with the
workflow and step that produced it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from automations import bot, conf, replies
from automations.definitions import Choice, Input, Step, WorkflowDefinition, definition_parse
from automations.errors import ActionFailed, InputInvalid
from automations.keywords import normalise
from automations.models import (
    AutomatedReply,
    AutomationRun,
    ConversationState,
    Workflow,
    WorkflowStepVisit,
    WorkflowTemplate,
)
from automations.registry import WORKFLOW_ACTIONS, WORKFLOW_RENDERERS, ActionContext
from automations.replies import FlowReply, OutboundReply
from automations.selectors import keyword_trigger_matching
from automations.services.batching import (
    batch_contact_reads,
    deferred_checkpoint,
    row_defer,
    stored_in_this_batch,
)
from automations.services.handoffs import handoff_open, handoff_open_for
from automations.services.state import (
    conversation_state_active,
    conversation_state_end,
    conversation_state_start,
    conversation_state_update,
)
from automations.services.templates import text_fill, workflow_template_render
from automations.validators import input_validate
from flows_builder.selectors import flow_linked_to
from flows_builder.sending import DEFAULT_LINKED_CTA
from knowledge.services import knowledge_reply_for
from messaging.inbound import conversation_lock
from messaging.interactive import Button, MenuValidationError, build_reply_buttons, validate_interactive
from messaging.models import Message
from platform_core.batch_memo import batch_memo
from waba.models import WhatsAppAccount

logger = logging.getLogger(__name__)

Purpose = AutomatedReply.Purpose
StateStatus = ConversationState.Status
OFFERED = "_offered"  # the options the last interactive message offered: [{id, title}]


@dataclass(frozen=True)
class InboundInput:
    """What the customer said, whatever the message type: typed text, or a tapped option."""

    kind: str  # text | choice | other (media, location ...) | ignored
    text: str = ""  # typed text, or the title of the tapped option
    option_id: str | None = None
    replied_to: str = ""  # wamid of our message this one answers


def inbound_input(message: Message) -> InboundInput:
    content = message.content if isinstance(message.content, dict) else {}
    replied_to = message.context_wamid or ""
    if message.type == "text":
        return InboundInput("text", str(content.get("body") or message.body or ""), None, replied_to)
    if message.type == "interactive":
        if content.get("kind") in ("button_reply", "list_reply") and content.get("id"):
            return InboundInput("choice", str(content.get("title") or ""), str(content["id"]), replied_to)
        return InboundInput("ignored")  # nfm_reply: flows_builder's hook records flow responses
    if message.type == "button":  # a template's quick-reply button
        return InboundInput("choice", str(content.get("text") or ""), str(content.get("payload") or "") or None,
                            replied_to)
    if message.type in ("reaction", "system", "unsupported", "order"):
        return InboundInput("ignored")
    return InboundInput("other", "", None, replied_to)


def automation_handle_inbound(
    *, message: Message, now: datetime | None = None, savepoint: bool = True
) -> list[OutboundReply]:
    """Run the automations for one inbound message and send their replies; returns the replies.

    Idempotent per message. Runs in the tenant's schema, in the caller's transaction if there is
    one (the inbound pipeline's), so the new state, the queued replies and the run record commit
    together with the message or not at all. Inside that transaction it runs in a savepoint of its
    own; `savepoint=False` is for a caller that already wrapped the call in one.
    """
    if message.direction != Message.Direction.INBOUND:
        return []
    now = now or timezone.now()
    with deferred_checkpoint(message), transaction.atomic(savepoint=savepoint):
        fresh = stored_in_this_batch(message)
        run_record = AutomationRun(message=message, processed_at=now) if fresh else _claim(message, now)
        if run_record is None:
            return []
        run = _Run(message, now)
        run.execute()
        run.persist()
        for position, reply in enumerate(run.replies):
            replies.reply_send(reply=reply, message=message, workflow=reply.workflow, step=reply.step,
                               position=position, now=now)
        run_record.outcome = run.outcome
        run_record.workflow_name = run.session.workflow.name if run.session else run.state_workflow
        run_record.step_after = run.session.step if run.session and run.session.waiting else ""
        run_record.step_before = run.step_before
        if fresh:  # written once, with its outcome: with the batch's others, or now
            if not row_defer(run_record, message=message):
                run_record.save(force_insert=True)
        else:
            run_record.save(update_fields=["outcome", "workflow_name", "step_before", "step_after"])
    return run.replies


_CLAIM = f"""
    INSERT INTO {AutomationRun._meta.db_table} (message_id, outcome, workflow_name, step_before, step_after, processed_at)
    VALUES (%(message)s, '', '', '', '', %(at)s)
    ON CONFLICT (message_id) DO NOTHING
    RETURNING id
"""


def _claim(message: Message, now: datetime) -> AutomationRun | None:
    """The message's run record, or None when it has one already. One statement: no savepoint, and
    a concurrent claim of the same message waits for this transaction and then claims nothing."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM, {"message": message.pk, "at": now})
        row = cursor.fetchone()
    if row is None:
        logger.info("Message %s was already handled by the automations; skipped.", message.pk)
        return None
    return AutomationRun(pk=row[0], message=message, processed_at=now)


@dataclass
class _Session:
    """A workflow run in memory while one message is handled; `state` is the row it continues."""

    workflow: Workflow
    definition: WorkflowDefinition
    step: str
    context: dict[str, Any] = field(default_factory=dict)
    failed_attempts: int = 0
    state: ConversationState | None = None
    waiting: bool = False
    end_status: str = StateStatus.COMPLETED


class _Run:
    def __init__(self, message: Message, now: datetime) -> None:
        self.message, self.now = message, now
        self.contact, self.phone = message.contact, message.phone_number
        # Read fresh: bot settings may have changed since the number was loaded.
        account_id = self.phone.account_id
        self.account = batch_memo(("waba.account", account_id), lambda: WhatsAppAccount.objects.get(pk=account_id))
        self.replies: list[OutboundReply] = []
        self.state: ConversationState | None = None
        self.active_row: ConversationState | None = None
        self.active_row_read = False
        self.state_workflow = self.step_before = ""
        self.session: _Session | None = None
        self.outcome = ""
        self.bot_spoke = False
        self.templates: dict[str, WorkflowTemplate] = {}  # by name: those already read for this message
        self.visits: list[WorkflowStepVisit] = []  # every step entered, written in one INSERT by `persist`

    # --- the decision --------------------------------------------------------------------------

    def execute(self) -> None:
        said = inbound_input(self.message)
        if said.kind == "ignored":
            self.outcome = "ignored"
            return
        conversation_lock(conversation_id=self.message.conversation_id)
        read = batch_contact_reads(self.message, now=self.now)
        handoff = read.handoff if read else handoff_open_for(contact=self.contact, phone_number=self.phone)
        if handoff is not None:
            self.outcome = "handoff_open"
            return
        self._bot_openers()
        self.state = read.state if read else conversation_state_active(
            contact=self.contact, phone_number=self.phone, now=self.now, for_update=True
        )
        # In a batch the pair's active row was read, live or expired: a new state replaces it unread.
        self.active_row_read, self.active_row = (True, read.active) if read else (False, self.state)
        self.state_workflow = self.state.workflow_name if self.state else ""
        self.step_before = self.state.current_step if self.state else ""
        self.session = self._session_of(self.state) if self.state else None
        command = _command(said)
        if command is not None:
            self._command(command)
        elif self.session is not None:
            self._answer(said)
        else:
            self._without_state(said)

    def _bot_openers(self) -> None:
        greeting = bot.greeting_text(account=self.account, message=self.message)
        if greeting:
            self._say(greeting, Purpose.GREETING)
        closed = bot.out_of_hours_text(account=self.account, message=self.message, now=self.now)
        if closed:
            self._say(closed, Purpose.OUT_OF_HOURS)
        self.bot_spoke = bool(greeting or closed)

    def _session_of(self, state: ConversationState) -> _Session | None:
        """The state as a runnable session; a state whose workflow or step is gone is closed."""
        workflow = state.workflow
        definition = _definition(workflow) if workflow is not None and workflow.is_active else None
        step = definition.steps.get(state.current_step) if definition else None
        if workflow is None or definition is None or step is None or step.input is None:
            conversation_state_end(state=state, status=StateStatus.CANCELLED, now=self.now, locked=True)
            self.state = None
            return None
        return _Session(workflow=workflow, definition=definition, step=state.current_step,
                        context=dict(state.context), failed_attempts=state.failed_attempts, state=state,
                        waiting=True)

    def _command(self, command: str) -> None:
        self.outcome = f"command_{command}"
        if command == conf.HUMAN_ID:
            handoff_open(contact=self.contact, phone_number=self.phone, opened_by="contact",
                         reason="The contact asked for a person.", now=self.now)
            self.session = None
            self._say(conf.HANDOFF_TEXT, Purpose.HANDOFF)
        elif command == conf.CANCEL_ID:
            if self.session is None:
                self._say(conf.NOTHING_TO_CANCEL_TEXT, Purpose.CANCELLED)
                return
            self.session.waiting, self.session.end_status = False, StateStatus.CANCELLED
            self._say(conf.CANCELLED_TEXT, Purpose.CANCELLED, self.session)
        else:
            main = batch_memo(("automations.main_menu",),
                              lambda: Workflow.objects.filter(is_main_menu=True, is_active=True).first())
            if main is not None:
                self._start(main)
            elif not self._keyword_start("menu"):
                self._fallback()

    def _answer(self, said: InboundInput) -> None:
        session = self.session
        assert session is not None
        step = session.definition.steps[session.step]
        spec = step.input
        assert spec is not None
        if said.kind == "other":
            self._invalid(step, spec.reprompt or conf.NON_TEXT_REPROMPT_TEXT)
            return
        if spec.type == "choice":
            picked = _pick(spec, said, session.context.get(OFFERED) or [])
            if picked is not None:
                self.outcome = "advanced"
                self._choose(spec, *picked)
                return
            if said.kind == "choice" and self._resume_from(said):
                return
            problem = spec.reprompt or conf.CHOICE_REPROMPT_TEXT
        else:
            if said.kind == "choice" and self._resume_from(said):
                return
            try:
                value = input_validate(spec.validator or "any_text", said.text)
            except InputInvalid as invalid:
                problem = spec.reprompt or invalid.message
            else:
                self.outcome = "advanced"
                session.failed_attempts = 0
                if spec.save_as:
                    session.context[spec.save_as] = value
                self._enter(spec.next or "")
                return
        if said.text and self._keyword_start(said.text):
            return
        if spec.type == "choice" and said.kind == "text" and self._knowledge_reply(said.text, hand_off=False):
            return  # a question typed while a menu waits for a tap: answered, and the menu still waits
        self._invalid(step, problem)

    def _without_state(self, said: InboundInput) -> None:
        if said.kind == "choice" and self._resume_from(said):
            return
        if said.kind in ("text", "choice") and said.text and self._keyword_start(said.text):
            return
        if said.kind == "text" and self._knowledge_reply(said.text, hand_off=not self.bot_spoke):
            return
        if said.kind in ("text", "choice") and not self.bot_spoke:
            self._fallback()
        elif not self.outcome:
            self.outcome = "no_match"

    def _knowledge_reply(self, text: str, *, hand_off: bool = True) -> bool:
        """The knowledge base's answer, or a person when it has none it trusts (`hand_off`); False
        while it is off, or when it has no answer and must not hand off."""
        verdict = knowledge_reply_for(message=self.message, text=text, now=self.now, hand_off=hand_off)
        if verdict is None:
            return False
        if verdict.answer is not None:
            self.outcome = "knowledge_answered"
            self._say(verdict.answer, Purpose.KNOWLEDGE)
            return True
        self.outcome = "knowledge_handoff"
        handoff_open(contact=self.contact, phone_number=self.phone, opened_by="automation",
                     reason="No confident answer in the knowledge base.", now=self.now)
        self._say(conf.HANDOFF_TEXT, Purpose.HANDOFF)
        return True

    def _fallback(self) -> None:
        text = bot.fallback_text(account=self.account, message=self.message, now=self.now)
        self.outcome = "fallback" if text else "no_match"
        if text:
            self._say(text, Purpose.FALLBACK)

    # --- starting, choosing, entering steps ----------------------------------------------------

    def _keyword_start(self, text: str) -> bool:
        trigger = keyword_trigger_matching(text=text, account_id=self.phone.account_id)
        if trigger is None:
            return False
        self.outcome = "keyword"
        if trigger.flow is not None:
            # A published WhatsApp Flow whose keyword matched: sent as it is, ending any workflow.
            flow = trigger.flow
            self._end_current(StateStatus.REPLACED)
            self._reply(OutboundReply(purpose=Purpose.MENU, step=f"flow:{flow.name}", flow=FlowReply(
                body=flow.description or flow.friendly_name, cta=_linked_cta(), flow_id=flow.pk)))
            return True
        if trigger.template is not None:
            self.templates[trigger.template.template_name] = trigger.template
        if trigger.workflow is not None:
            self._start(trigger.workflow)
            return True
        template = trigger.template
        assert template is not None
        interactive = self._render_template(template, {}, step_name="")
        if interactive is not None:
            self._reply(OutboundReply.interactive_message(interactive, purpose=Purpose.MENU,
                                                          step=f"template:{template.template_name}"))
        return True

    def _start(self, workflow: Workflow) -> None:
        """Start `workflow` from its first step; the contact's current state will be replaced."""
        definition = _definition(workflow)
        if definition is None:
            self._say(conf.ACTION_ERROR_TEXT, Purpose.ERROR)
            return
        linked = _linked_flow(workflow, account_id=self.phone.account_id)
        if linked is not None:
            # A published WhatsApp Flow replaces this conversational flow (flows_builder's link).
            flow_id, body = linked
            self._end_current(StateStatus.REPLACED)
            self._reply(OutboundReply(purpose=Purpose.STEP, flow=FlowReply(body=body, cta=_linked_cta(),
                                                                               flow_id=flow_id),
                                      workflow=workflow.name, workflow_version=workflow.version,
                                      step=definition.start))
            return
        self.session = _Session(workflow=workflow, definition=definition, step=definition.start)
        self._enter(definition.start)

    def _end_current(self, status: str) -> None:
        if self.session is not None and self.session.state is not None:
            conversation_state_end(state=self.session.state, status=status, now=self.now, locked=True)
        self.session = None

    def _resume_from(self, said: InboundInput) -> bool:
        """A tapped option of an earlier menu (a workflow's first step): continue from that menu."""
        if not said.replied_to:
            return False
        earlier = (AutomatedReply.objects.select_related("outbound_message")
                   .filter(outbound_message__wamid=said.replied_to).exclude(workflow_name="").first())
        workflow = _active_workflow(earlier.workflow_name) if earlier else None
        definition = _definition(workflow) if workflow else None
        if earlier is None or workflow is None or definition is None or earlier.step != definition.start:
            return False
        spec = definition.steps[definition.start].input
        payload = (earlier.outbound_message.request_payload or {}) if earlier.outbound_message else {}
        offered = offered_options(payload.get("interactive"))
        picked = _pick(spec, said, offered) if spec is not None and spec.type == "choice" else None
        if picked is None or spec is None:
            return False
        self.outcome = "resumed"
        self.session = _Session(workflow=workflow, definition=definition, step=definition.start,
                                context={OFFERED: offered})
        self._choose(spec, *picked)
        return True

    def _choose(self, spec: Input, choice: Choice | None, option_id: str, title: str) -> None:
        session = self.session
        assert session is not None
        session.failed_attempts = 0
        if spec.save_as:
            session.context[spec.save_as] = option_id
            session.context[f"{spec.save_as}_title"] = title
        if choice is None:
            self._enter(spec.next or "")
            return
        session.context.update(choice.set)
        if choice.next:
            self._enter(choice.next)
        elif choice.workflow:
            target = _active_workflow(choice.workflow)
            if target is None:
                logger.warning("Workflow %s starts %s, which is missing or inactive.", session.workflow.name,
                               choice.workflow)
                self._say(conf.ACTION_ERROR_TEXT, Purpose.ERROR, session)
                session.waiting, session.end_status = False, StateStatus.CANCELLED
                return
            self._start(target)
        else:
            session.waiting, session.end_status = False, StateStatus.COMPLETED

    def _enter(self, step_name: str) -> None:
        """Enter `step_name` and go on through `next` links until a step waits for input or ends."""
        session = self.session
        assert session is not None
        session.waiting, current = False, step_name
        for _ in range(conf.MAX_STEPS_PER_MESSAGE):
            step = session.definition.steps[current]
            session.step = current
            self.visits.append(WorkflowStepVisit(
                workflow=session.workflow, workflow_version=session.workflow.version, step=current,
                contact=self.contact, phone_number=self.phone, entered_at=self.now))
            session.context.update(step.set)
            if step.action and self._act(step, current):
                if step.on_error:
                    current = step.on_error
                    continue
                session.end_status = StateStatus.CANCELLED
                return
            if step.send is not None and not self._send_step(step, current):
                session.end_status = StateStatus.CANCELLED
                return
            if step.input is not None:
                session.waiting = True
                return
            if not step.next:
                session.end_status = StateStatus.COMPLETED
                return
            current = step.next
        logger.error("Workflow %s entered %s steps for one message; stopped.", session.workflow.name,
                     conf.MAX_STEPS_PER_MESSAGE)
        session.end_status = StateStatus.CANCELLED

    def _act(self, step: Step, step_name: str) -> bool:
        """Run the step's action; True when it failed (its message already said so)."""
        session = self.session
        assert session is not None and step.action is not None
        try:
            with transaction.atomic():  # a failing action leaves no half-written rows
                updates = WORKFLOW_ACTIONS[step.action](self._action_context(step))
        except ActionFailed as failure:
            self._say(failure.message, Purpose.ERROR, session)
            return True
        except Exception:
            logger.exception("Action %s of workflow %s failed.", step.action, session.workflow.name)
            self._say(conf.ACTION_ERROR_TEXT, Purpose.ERROR, session)
            return True
        session.context.update(dict(updates or {}))
        return False

    def _send_step(self, step: Step, step_name: str, purpose: str = Purpose.STEP) -> bool:
        """Send what the step sends; False when it could not be built (already explained to the contact)."""
        session = self.session
        assert session is not None and step.send is not None
        send, context = step.send, _public(session.context)
        interactive: dict[str, Any] | None = None
        if send.text is not None:
            self._say(text_fill(send.text, context), purpose, session)
        elif send.flow is not None:
            self._reply(OutboundReply(purpose=purpose, flow=FlowReply(
                name=send.flow.name, body=text_fill(send.flow.body, context), cta=send.flow.cta),
                **_where(session)))
        elif send.template is not None:
            template = self._template(send.template)
            if template is None:
                logger.error("Workflow %s sends missing template %s.", session.workflow.name, send.template)
                self._say(conf.ACTION_ERROR_TEXT, Purpose.ERROR, session)
                return False
            interactive = self._render_template(template, context, step_name=step_name)
            if interactive is None:
                return False
        else:
            interactive = self._render(step, send.render or "")
            if interactive is None:
                return False
        if interactive is not None:
            self._reply(OutboundReply.interactive_message(interactive, purpose=purpose, **_where(session)))
        session.context[OFFERED] = offered_options(interactive) or None
        return True

    def _template(self, name: str) -> WorkflowTemplate | None:
        """The template named `name`, read once per batch (a keyword match may have read it already)."""
        if name not in self.templates:
            template = batch_memo(("automations.workflow_template", name),
                                  lambda: WorkflowTemplate.objects.filter(template_name=name).first())
            if template is None:
                return None
            self.templates[name] = template
        return self.templates[name]

    def _render_template(self, template: WorkflowTemplate, context: dict[str, Any], *, step_name: str
                         ) -> dict[str, Any] | None:
        interactive = workflow_template_render(template=template, context=context)
        try:
            validate_interactive(interactive)
        except MenuValidationError as error:
            logger.error("Template %s does not fit Meta's limits once filled in: %s", template.template_name,
                         error.message)
            self._say(conf.ACTION_ERROR_TEXT, Purpose.ERROR, self.session)
            return None
        return interactive

    def _render(self, step: Step, renderer: str) -> dict[str, Any] | None:
        session = self.session
        assert session is not None
        try:
            interactive = WORKFLOW_RENDERERS[renderer](self._action_context(step))
            validate_interactive(interactive)
        except ActionFailed as failure:
            self._say(failure.message, Purpose.ERROR, session)
            return None
        except Exception:
            logger.exception("Renderer %s of workflow %s failed.", renderer, session.workflow.name)
            self._say(conf.ACTION_ERROR_TEXT, Purpose.ERROR, session)
            return None
        return interactive

    def _invalid(self, step: Step, problem: str) -> None:
        session = self.session
        assert session is not None
        self.outcome = "reprompted"
        session.failed_attempts += 1
        session.waiting = True
        if session.failed_attempts >= conf.MAX_FAILED_INPUTS:
            self.outcome, session.failed_attempts = "escalated", 0
            interactive = build_reply_buttons(body=conf.ESCALATION_TEXT, buttons=[
                Button(id=conf.MENU_ID, title=conf.ESCALATION_MENU_TITLE),
                Button(id=conf.HUMAN_ID, title=conf.ESCALATION_HUMAN_TITLE),
            ])
            self._reply(OutboundReply.interactive_message(interactive, purpose=Purpose.ESCALATION,
                                                          **_where(session)))
            return
        self._say(f"{problem}\n\n{conf.WAY_OUT_HINT}", Purpose.REPROMPT, session)
        if step.input is not None and step.input.type == "choice" and step.send is not None:
            self._send_step(step, session.step, purpose=Purpose.REPROMPT)  # the options again, to tap

    def _action_context(self, step: Step) -> ActionContext:
        session = self.session
        assert session is not None
        return ActionContext(contact=self.contact, phone_number=self.phone, context=dict(session.context),
                             now=self.now, message=self.message, params=step.params)

    # --- replies and persistence -------------------------------------------------------------------

    def _say(self, text: str, purpose: str, session: _Session | None = None) -> None:
        self._reply(OutboundReply.text_message(text, purpose=purpose, **_where(session)))

    def _reply(self, reply: OutboundReply) -> None:
        self.replies.append(reply)

    def persist(self) -> None:
        """Write the steps entered and the session back: continue, start (replacing the old state) or close."""
        visits = [visit for visit in self.visits if not row_defer(visit, message=self.message)]
        if visits:
            WorkflowStepVisit.objects.bulk_create(visits)
        session, wamid = self.session, self.message.wamid or ""
        if session is None:
            return
        if session.state is None:
            if session.waiting:
                context = {key: value for key, value in session.context.items() if value is not None}
                conversation_state_start(contact=self.contact, phone_number=self.phone, workflow=session.workflow,
                                         step=session.step, context=context, now=self.now,
                                         processed_wamid=wamid, replacing=self.active_row,
                                         replacing_known=self.active_row_read)
            elif self.state is not None and self.state.status == StateStatus.ACTIVE:
                conversation_state_end(state=self.state, status=StateStatus.REPLACED, now=self.now, locked=True)
            return
        if session.waiting:
            removed = {key: None for key in session.state.context if key not in session.context}
            conversation_state_update(state=session.state, step=session.step, context={**session.context, **removed},
                                      failed_attempts=session.failed_attempts, now=self.now, processed_wamid=wamid,
                                      locked=True, account=self.account)
        else:
            conversation_state_end(state=session.state, status=session.end_status, now=self.now, locked=True)


# --- pure helpers ----------------------------------------------------------------------------------


def _command(said: InboundInput) -> str | None:
    if said.option_id in (conf.MENU_ID, conf.CANCEL_ID, conf.HUMAN_ID):
        return said.option_id
    if said.kind != "text":
        return None
    text = normalise(said.text)
    for command, words in ((conf.MENU_ID, conf.MENU_WORDS), (conf.CANCEL_ID, conf.CANCEL_WORDS),
                           (conf.HUMAN_ID, conf.HUMAN_WORDS)):
        if text in words:
            return command
    return None


def _pick(spec: Input, said: InboundInput, offered: list[dict[str, str]]
          ) -> tuple[Choice | None, str, str] | None:
    """The option the customer chose: by the tapped id, or by typing an offered option's title."""
    choices = {choice.id: choice for choice in spec.choices}
    titles = {option["id"]: option["title"] for option in offered}

    def resolve(option_id: str, title: str) -> tuple[Choice | None, str, str] | None:
        if option_id in choices:
            return choices[option_id], option_id, title or titles.get(option_id, "")
        if spec.accept_offered and option_id in titles:
            return None, option_id, title or titles[option_id]
        return None

    if said.option_id:
        return resolve(said.option_id, said.text)
    wanted = normalise(said.text)
    for option in offered:
        if wanted and normalise(option["title"]) == wanted:
            return resolve(option["id"], option["title"])
    return None


def offered_options(interactive: Any) -> list[dict[str, str]]:
    """The [{id, title}] a button or list message offers ([] for anything else)."""
    if not isinstance(interactive, dict):
        return []
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        return [{"id": b["reply"]["id"], "title": b["reply"]["title"]} for b in action.get("buttons", [])]
    if interactive.get("type") == "list":
        return [{"id": row["id"], "title": row["title"]}
                for section in action.get("sections", []) for row in section.get("rows", [])]
    return []


def _public(context: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in context.items() if not key.startswith("_")}


def _where(session: _Session | None) -> dict[str, Any]:
    if session is None:
        return {}
    return {"workflow": session.workflow.name, "workflow_version": session.workflow.version, "step": session.step}


def _active_workflow(name: str) -> Workflow | None:
    """The active workflow of that name (read once per batch of webhook changes)."""
    return batch_memo(("automations.workflow", name), lambda: Workflow.objects.filter(name=name, is_active=True).first())


def _definition(workflow: Workflow) -> WorkflowDefinition | None:
    return batch_memo(("automations.definition", workflow.pk, workflow.version), lambda: _definition_parse(workflow))


def _definition_parse(workflow: Workflow) -> WorkflowDefinition | None:
    definition, problems = definition_parse(workflow.definition)
    if definition is None or problems:
        logger.error("Workflow %s has an invalid definition: %s", workflow.name, problems[:3])
        return None
    return definition


def _linked_flow(workflow: Workflow, *, account_id: int) -> tuple[int, str] | None:
    """flows_builder's published WhatsApp Flow linked to this workflow, as (id, body), if any (read
    once per batch of webhook changes)."""

    def read() -> tuple[int, str] | None:
        flow = flow_linked_to(conversational_flow_name=workflow.name, account_id=account_id)
        return None if flow is None else (flow.pk, flow.description or flow.friendly_name)

    return batch_memo(("automations.linked_flow", workflow.name, account_id), read)


def _linked_cta() -> str:

    return DEFAULT_LINKED_CTA
