"""Tenant-schema models of conversation automation.

Menus (`WorkflowTemplate`) and automations (`Workflow`) are data, versioned on every change.
`ConversationState` is where a contact is in a workflow; `AutomationRun` makes each inbound
message count once; `AutomatedReply` links every automated outbound message to the workflow and
step that sent it; `WorkflowStepVisit` keeps every step a contact entered. Catalogue, orders and
support tickets are what the built-in workflows create.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from messaging.models import Contact, Message
from waba.models import PhoneNumber


class WorkflowTemplate(models.Model):
    """A named, reusable interactive menu, optionally triggered by keywords.

    `structure` is Meta's `interactive` object (button, list or flow); its texts may hold
    `{placeholders}` filled from the conversation's context when it is sent. A keyword match
    starts `workflow` when one is set, otherwise the menu is sent on its own. An inactive
    template triggers nothing; workflow steps that name it still send it.
    """

    class Type(models.TextChoices):
        BUTTON = "button", "Reply buttons"
        LIST = "list", "List"
        FLOW = "flow", "WhatsApp Flow"

    class MatchMode(models.TextChoices):
        EXACT = "exact", "The whole message"
        CONTAINS = "contains", "Contains the words"
        STARTS_WITH = "starts_with", "Starts with the words"
        REGEX = "regex", "Regular expression"

    template_name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True, default="")
    type = models.CharField(max_length=16, choices=Type.choices)
    trigger_keywords = models.JSONField(default=list, blank=True)
    match_mode = models.CharField(max_length=16, choices=MatchMode.choices, default=MatchMode.CONTAINS)
    priority = models.IntegerField(default=0, help_text="Higher wins when several templates match.")
    structure = models.JSONField(help_text="Meta's interactive object; texts may use {placeholders}.")
    workflow = models.ForeignKey(
        "Workflow", null=True, blank=True, on_delete=models.SET_NULL, related_name="trigger_templates",
        help_text="The workflow a keyword match starts; empty: the menu is sent on its own.",
    )
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["template_name"]

    def __str__(self) -> str:
        return self.template_name


class WorkflowTemplateVersion(models.Model):
    """A snapshot of a template as saved; version 1 is its creation."""

    template = models.ForeignKey(WorkflowTemplate, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()
    changed_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="workflow_template_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.version}"


class Workflow(models.Model):
    """A conversational flow as data: steps, inputs, transitions, actions (see menus.definitions)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True, default="")
    definition = models.JSONField()
    is_active = models.BooleanField(default=True)
    is_main_menu = models.BooleanField(default=False, help_text='What "menu" opens. At most one.')
    is_builtin = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_main_menu"], condition=Q(is_main_menu=True),
                                    name="workflow_one_main_menu"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    changed_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workflow", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "version"], name="workflow_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} v{self.version}"


class ConversationState(models.Model):
    """Where one contact is in a workflow on one of the tenant's numbers.

    At most one `active` state per contact and number (a partial unique index). An active state
    whose `expires_at` has passed is treated as absent and closed as `expired` by the clean-up.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        REPLACED = "replaced", "Replaced by another workflow"
        EXPIRED = "expired", "Expired"
        HANDED_OFF = "handed_off", "Handed to a human"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversation_states")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="conversation_states")
    workflow = models.ForeignKey(Workflow, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="states")
    workflow_name = models.CharField(max_length=100)
    workflow_version = models.PositiveIntegerField(default=1)
    current_step = models.CharField(max_length=100)
    context = models.JSONField(default=dict, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(default=timezone.now)
    last_interaction_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    last_processed_wamid = models.CharField(max_length=256, blank=True, default="")

    class Meta:
        ordering = ["-last_interaction_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "phone_number"], condition=Q(status="active"),
                                    name="conversation_state_one_active"),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="active"), name="conversation_state_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} in {self.workflow_name}:{self.current_step} ({self.status})"


class AutomationRun(models.Model):
    """One inbound message seen by the engine. Unique per message: a redelivery never runs twice."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="automation_run")
    outcome = models.CharField(max_length=32, blank=True, default="")
    workflow_name = models.CharField(max_length=100, blank=True, default="")
    step_before = models.CharField(max_length=100, blank=True, default="")
    step_after = models.CharField(max_length=100, blank=True, default="")
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-processed_at", "-id"]

    def __str__(self) -> str:
        return f"message {self.message_id}: {self.outcome}"


class AutomatedReply(models.Model):
    """An outbound message the automation sent, and which workflow and step (or bot rule) sent it.

    When the send pipeline refused the reply, `error_code` says why and `outbound_message` is the
    failed message that shows the refusal in the conversation.
    """

    class Purpose(models.TextChoices):
        STEP = "step", "Workflow step"
        MENU = "menu", "Keyword menu"
        REPROMPT = "reprompt", "Re-prompt after unexpected input"
        ESCALATION = "escalation", "Main menu or a human, after repeated failures"
        CANCELLED = "cancelled", "Cancelled"
        GREETING = "greeting", "Greeting"
        OUT_OF_HOURS = "out_of_hours", "Out of hours"
        FALLBACK = "fallback", "Fallback"
        HANDOFF = "handoff", "Handed to a human"
        KNOWLEDGE = "knowledge", "Knowledge-base answer"
        ERROR = "error", "Action failed"
        CALL = "call", "Answer to a call"

    outbound_message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL,
                                            related_name="automated_reply")
    inbound_message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="automated_replies")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="automated_replies")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="automated_replies")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    workflow_name = models.CharField(max_length=100, blank=True, default="")
    workflow_version = models.PositiveIntegerField(null=True, blank=True)
    step = models.CharField(max_length=100, blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "automated replies"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "phone_number", "purpose", "-created_at"],
                         name="automated_reply_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.workflow_name}:{self.step}".strip(":")


class WorkflowStepVisit(models.Model):
    """A contact entered a workflow's step: one row per step entered, never changed (funnels read it).

    Written by the engine with the message's other rows, in one INSERT for every step that message
    led through. Unlike `ConversationState`, closed and deleted after a while, it is kept.
    """

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="step_visits")
    workflow_version = models.PositiveIntegerField()
    step = models.CharField(max_length=100)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="workflow_step_visits")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="workflow_step_visits")
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-entered_at", "-id"]
        indexes = [
            models.Index(fields=["workflow", "entered_at"], include=["step", "contact"],
                         name="workflow_step_visit_funnel"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} entered {self.step} ({self.entered_at:%Y-%m-%d %H:%M})"


class HumanHandoff(models.Model):
    """A conversation handed to a person: automations stay silent until it is closed."""

    class OpenedBy(models.TextChoices):
        CONTACT = "contact", "The contact asked"
        BUSINESS = "business", "The business"
        AUTOMATION = "automation", "A workflow"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="handoffs")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="handoffs")
    reason = models.CharField(max_length=500, blank=True, default="")
    opened_by = models.CharField(max_length=16, choices=OpenedBy.choices)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "phone_number"], condition=Q(closed_at__isnull=True),
                                    name="handoff_one_open"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({'open' if self.closed_at is None else 'closed'})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class CatalogueItem(models.Model):
    """A product of the ordering workflow. Items of one `category` are listed together under that
    title (a list section); items without one come under "Other" when others have one."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=72, blank=True, default="")
    category = models.CharField(max_length=24, blank=True, default="")
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.CheckConstraint(condition=Q(price__gte=0), name="catalogue_item_price_not_negative")]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """A placed order: its lines are `items` (OrderItem). `number` ("ORD-4821") is what the customer
    reads and tracks by; unique in the tenant. Orders from before numbers existed read "ORD-<id>"."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        PREPARING = "preparing", "Being prepared"
        SHIPPED = "shipped", "On its way"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    # Orders outlive a contact's deletion (bookkeeping): the number stays in `customer_wa_id`.
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="orders")
    customer_wa_id = models.CharField(max_length=32, blank=True, default="")
    number = models.CharField(max_length=16, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Order {self.number or self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.number:
            self.number = order_number_unused()
        super().save(*args, **kwargs)


ORDER_NUMBER_PREFIX = "ORD-"
# Digits of a new order number: the shortest length first; one more digit whenever
# ORDER_NUMBER_TRIES random numbers of a length were all taken.
ORDER_NUMBER_MIN_DIGITS = 4
ORDER_NUMBER_MAX_DIGITS = 10
ORDER_NUMBER_TRIES = 8


def order_number_format(digits: str | int) -> str:
    """"ORD-1234" for 1234 or "1234": the one spelling numbers are stored and looked up in."""
    return f"{ORDER_NUMBER_PREFIX}{int(digits)}"


def order_number_unused() -> str:
    """A random order number no order of this tenant holds yet (the unique constraint guards the race)."""
    for digits in range(ORDER_NUMBER_MIN_DIGITS, ORDER_NUMBER_MAX_DIGITS + 1):
        candidates = {order_number_format(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))
                      for _ in range(ORDER_NUMBER_TRIES)}
        taken = set(Order.objects.filter(number__in=candidates).values_list("number", flat=True))
        free = sorted(candidates - taken)
        if free:
            return secrets.choice(free)
    raise RuntimeError("No free order number.")


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    catalogue_item = models.ForeignKey(CatalogueItem, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="order_items")
    name = models.CharField(max_length=100)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="order_item_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.name} x {self.quantity}"


class SupportTicket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        CLOSED = "closed", "Closed"

    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="support_tickets")
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="support_tickets")
    customer_wa_id = models.CharField(max_length=32, blank=True, default="")
    issue_type = models.CharField(max_length=100)
    description = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Ticket #{self.pk} ({self.issue_type})"
