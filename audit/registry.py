"""Which models the audit log follows, and which of their fields it never shows.

The registry is explicit: configuration and people's records, not the pipelines' rows (messages,
statuses, events, deliveries), which change by the thousand and are their own history.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import models

from alerts.models import AlertSettings
from automations.models import CatalogueItem, Workflow, WorkflowTemplate
from billing.plans.models import Plan, PlanVersion, RateCardEntry, Subscription
from broadcasts.models import Broadcast
from contacts.models import AttributeDefinition, Segment
from flows_builder.models import FlowEndpointKey, FlowExchangeConfig, WhatsAppFlow
from integrations.models import Endpoint
from knowledge.models import FaqEntry
from messaging.models import Contact
from platform_core.crypto import EncryptedTextField
from team.models import Membership
from tenants.models import ApiKey, Domain, MetaApp, Tenant
from waba.models import BusinessProfile, MessageTemplate, PhoneNumber, WhatsAppAccount

AUDITED_MODELS: tuple[type[models.Model], ...] = (
    # A tenant's configuration and records (its schema).
    WhatsAppAccount,
    PhoneNumber,
    MessageTemplate,
    BusinessProfile,
    WhatsAppFlow,
    FlowEndpointKey,
    FlowExchangeConfig,
    WorkflowTemplate,
    Workflow,
    CatalogueItem,
    Contact,
    AttributeDefinition,
    Segment,
    Broadcast,
    Endpoint,
    AlertSettings,
    FaqEntry,
    # Both sides: a tenant's keys and users in its schema's log, the platform's in the public one.
    ApiKey,
    User,
    Group,
    Membership,
    # The platform's (public schema).
    Tenant,
    Domain,
    MetaApp,
    Plan,
    PlanVersion,
    Subscription,
    RateCardEntry,
)

# Bookkeeping that changes without anyone deciding anything: never a row of its own.
IGNORED_FIELDS: dict[type[models.Model], frozenset[str]] = {
    User: frozenset({"last_login"}),
    ApiKey: frozenset({"last_used_at", "last_used_from"}),
    Contact: frozenset({"first_seen_at", "last_seen_at"}),
}

MASK = "[masked]"
_SECRET_WORDS = frozenset(
    {"token", "secret", "password", "hash", "pem", "credential", "credentials", "passphrase"}
)


def field_is_secret(field: models.Field) -> bool:
    """Encrypted fields and fields named like a credential (`access_token`, `key_hash`, `private_key`...).

    Their changes are recorded as happening, never with their values."""
    if isinstance(field, EncryptedTextField):
        return True
    parts = field.name.lower().split("_")
    return bool(_SECRET_WORDS.intersection(parts)) or (len(parts) > 1 and parts[-1] == "key")


def fields_audited(model: type[models.Model]) -> list[models.Field]:
    """The concrete fields whose changes a row shows: not the primary key, nor what saves touch by
    themselves (`auto_now` timestamps, IGNORED_FIELDS)."""
    ignored = IGNORED_FIELDS.get(model, frozenset())
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in ignored and not getattr(field, "auto_now", False)
    ]
