"""Tenant-schema models of the contacts app: attribute definitions, the consent history, CSV imports."""

from __future__ import annotations

from django.db import models

from messaging.models import Contact


class AttributeDefinition(models.Model):
    """A custom field the workspace keeps on its contacts; values live in Contact.attributes[key]."""

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        BOOLEAN = "boolean", "Yes / no"
        CHOICE = "choice", "Choice"

    key = models.SlugField(
        max_length=64, unique=True, help_text="Lower-case letters, digits and underscores."
    )
    label = models.CharField(max_length=128)
    type = models.CharField(max_length=16, choices=Type.choices)
    choices = models.JSONField(
        default=list, blank=True, help_text="The allowed values of a choice attribute."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.label} ({self.key}, {self.type})"


class ConsentEvent(models.Model):
    """One change of a contact's marketing consent: who recorded it, where it came from and when."""

    class Kind(models.TextChoices):
        OPT_IN = "opt_in", "Opted in"
        OPT_OUT = "opt_out", "Opted out"

    class Source(models.TextChoices):
        CONSOLE = "console", "Console"
        API = "api", "API"
        IMPORT = "import", "Import"
        META = "meta", "WhatsApp (customer's preference)"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    recorded_by = models.CharField(
        max_length=150,
        blank=True,
        default="",
        help_text="The user or API key that recorded it; empty for Meta.",
    )
    note = models.CharField(max_length=500, blank=True, default="")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["contact", "-occurred_at"], name="consent_contact_time")]
        constraints = [
            # A webhook may be processed again: Meta's event is recorded once.
            models.UniqueConstraint(
                fields=["contact", "kind", "occurred_at"],
                condition=models.Q(source="meta"),
                name="consent_meta_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.kind} ({self.source}) at {self.occurred_at:%Y-%m-%d %H:%M}"


class ImportJob(models.Model):
    """A CSV upload: stored in chunks, mapped to contact fields, then run by a background task."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Waiting for the column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    filename = models.CharField(max_length=255, blank=True, default="")
    size = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=16, default="utf-8-sig")
    columns = models.JSONField(default=list, blank=True, help_text="The CSV's header row.")
    sample_rows = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True, help_text='{"column": "field or attr:<key>"}')
    default_country = models.CharField(max_length=2, blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True, default="")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import {self.pk} {self.filename} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(self.rows_done * 100 / self.rows_total) if self.rows_total else 0


class ImportChunk(models.Model):
    """A piece of an uploaded file, read back in order so the run never holds the whole file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="import_chunk_order")]


class ImportRowError(models.Model):
    """A row the import could not use, with the reason; downloadable as CSV."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(help_text="Line of the file, the header being line 1.")
    phone = models.CharField(max_length=64, blank=True, default="")
    field = models.CharField(max_length=80, blank=True, default="")
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["job", "row_number", "id"]


class Segment(models.Model):
    """A saved audience: contacts matching a filter definition, evaluated live on every read.

    `definition` is {"match": "all" | "any", "conditions": [...]}, checked by
    contacts.segments.segment_definition_clean before it is stored.
    """

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=500, blank=True, default="")
    definition = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
