"""One row per recorded change, in the schema the change was made from (a tenant's, or public)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """Who (`actor_*`: a user or an API key, never a secret), what (`object_type`, `object_id`, `action`,
    `changes`: per field `{"from", "to"}`, secret-ish values masked), when, and from where."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"

    class ActorType(models.TextChoices):
        USER = "user", "User"
        API_KEY = "api_key", "API key"

    created_at = models.DateTimeField(default=timezone.now)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.BigIntegerField()
    # A username, or an API key's name and visible prefix.
    actor_label = models.CharField(max_length=200)
    object_type = models.CharField(max_length=100)  # the model's label, e.g. "integrations.endpoint"
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True, default="")
    action = models.CharField(max_length=16, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-id"]  # the order they were written
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["created_at"], name="audit_entry_created"),
            models.Index(fields=["object_type", "object_id"], name="audit_entry_object"),
            models.Index(fields=["actor_type", "actor_id"], name="audit_entry_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type} {self.object_id}"
