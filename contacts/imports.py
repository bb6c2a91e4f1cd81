"""CSV import of contacts: upload (stored in chunks), column mapping, the run, the error report.

The run streams the file chunk by chunk and works in batches of BATCH_ROWS: memory holds one
chunk and one batch whatever the file's size. Each row is checked with the same rules as the API
(contacts.services); a row with any invalid cell is skipped whole and reported with the reason.
Contacts are matched on their WhatsApp id (the number in E.164): a known number is updated with
the non-empty cells (tags added, attributes merged), a new one is created; a number repeated in
the file is imported once, its later rows updating the earlier.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from contacts.errors import ContactInvalid, ImportInvalid, ImportJobNotFound
from contacts.models import AttributeDefinition, ImportChunk, ImportJob, ImportRowError
from contacts.services import (
    PROFILE_FIELDS,
    TAGS_MAX,
    attribute_definitions_by_key,
    attributes_clean,
    phone_to_wa_id,
    problem,
    profile_clean,
    tags_clean,
)
from messaging.models import Contact
from tenants.jobs import tenant_task, tenant_task_enqueue

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
MAX_BYTES = 100 * 1024 * 1024
BATCH_ROWS = 1000
SAMPLE_ROWS = 5
ATTRIBUTE_PREFIX = "attr:"
# What a column may be mapped to besides an attribute ("attr:<key>"); "" leaves a column out.
FIELDS = {
    "phone": "Phone number",
    "profile_name": "Name",
    "tier": "Tier",
    "notes": "Notes",
    "language": "Language",
    "timezone": "Time zone",
    "tags": "Tags (separated by ;)",
}
_FIELD_GUESSES = {
    "phone": "phone",
    "phone_number": "phone",
    "number": "phone",
    "mobile": "phone",
    "whatsapp": "phone",
    "wa_id": "phone",
    "msisdn": "phone",
    "name": "profile_name",
    "full_name": "profile_name",
    "profile_name": "profile_name",
    "tier": "tier",
    "notes": "notes",
    "note": "notes",
    "language": "language",
    "timezone": "timezone",
    "time_zone": "timezone",
    "tags": "tags",
}


def import_upload(*, chunks: Iterable[bytes], filename: str, created_by: str = "") -> ImportJob:
    """Stores an uploaded CSV file and reads its header and first rows for the mapping step."""
    with transaction.atomic():
        job = ImportJob.objects.create(filename=filename[:255], created_by=created_by[:150])
        size, seq, pending = 0, 0, bytearray()
        head = b""
        for piece in chunks:
            size += len(piece)
            if size > MAX_BYTES:
                raise ImportInvalid(
                    f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.",
                    details=[problem("file", "too large", "too_large")],
                )
            pending += piece
            if len(head) < 64 * 1024:
                head += piece[: 64 * 1024]
            while len(pending) >= CHUNK_BYTES:
                ImportChunk.objects.create(job=job, seq=seq, data=bytes(pending[:CHUNK_BYTES]))
                del pending[:CHUNK_BYTES]
                seq += 1
        if pending:
            ImportChunk.objects.create(job=job, seq=seq, data=bytes(pending))
        if size == 0:
            raise ImportInvalid("The file is empty.", details=[problem("file", "empty", "required")])
        job.size = size
        if b"\x00" in head:  # text files hold no NUL byte: an image, a spreadsheet, an archive...
            raise ImportInvalid(
                "The file is not a CSV text file (it holds binary data); export it as CSV first.",
                details=[problem("file", "not CSV", "not_csv")],
            )
        job.encoding = _encoding_of(head)
        rows = []
        try:
            for _, row in _rows(job):
                rows.append(row)
                if len(rows) > SAMPLE_ROWS:
                    break
        except (csv.Error, UnicodeDecodeError) as error:
            raise ImportInvalid(
                f"The file is not readable as CSV: {error}.", details=[problem("file", "not CSV", "not_csv")]
            ) from None
        if not rows or not any(cell.strip() for cell in rows[0]):
            raise ImportInvalid(
                "The file has no header row.", details=[problem("file", "no header", "no_header")]
            )
        job.columns = [cell.strip()[:100] or f"Column {index + 1}" for index, cell in enumerate(rows[0])][
            :200
        ]
        job.sample_rows = [[cell[:100] for cell in row[: len(job.columns)]] for row in rows[1:]]
        job.mapping = mapping_guess(job.columns)
        job.save()
    return job


def _encoding_of(head: bytes) -> str:
    """UTF-8 (with or without a byte-order mark); otherwise Windows-1252, as spreadsheets write it."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut at the end of the sample
            return "cp1252"
    return "utf-8-sig"


def mapping_guess(columns: list[str]) -> dict[str, str]:
    guessed: dict[str, str] = {}
    keys = set(AttributeDefinition.objects.values_list("key", flat=True))
    for index, column in enumerate(columns):
        name = column.strip().lower().replace(" ", "_").replace("-", "_")
        target = _FIELD_GUESSES.get(name) or (ATTRIBUTE_PREFIX + name if name in keys else "")
        if target and target not in guessed.values():
            guessed[str(index)] = target
    return guessed


def mapping_targets() -> list[tuple[str, str]]:
    """(value, label) of everything a column can be imported into."""
    return [*FIELDS.items()] + [
        (ATTRIBUTE_PREFIX + definition.key, f"Attribute: {definition.label}")
        for definition in AttributeDefinition.objects.order_by("key")
    ]


def import_get(*, job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(pk=job_id).first() if 0 < job_id < 2**63 else None
    if job is None:
        raise ImportJobNotFound(f"No import {job_id} in this workspace.")
    return job


def import_start(*, job: ImportJob, mapping: dict[str, str], default_country: str = "") -> ImportJob:
    """Checks the mapping ({column index: target}) and queues the run."""
    if job.status != ImportJob.Status.UPLOADED:
        raise ImportInvalid("This import has already been started.", details=[problem("mapping", "started")])
    targets = dict(mapping_targets())
    problems = []
    cleaned: dict[str, str] = {}
    for column, target in mapping.items():
        if not target:
            continue
        if not str(column).isdigit() or int(column) >= len(job.columns):
            problems.append(problem(f"mapping.{column}", "no such column"))
        elif target not in targets:
            problems.append(problem(f"mapping.{column}", f"{target!r} is not a field or attribute"))
        elif target in cleaned.values():
            problems.append(
                problem(f"mapping.{column}", f"{targets[target]} is chosen for two columns", "duplicate")
            )
        else:
            cleaned[str(column)] = target
    if "phone" not in cleaned.values():
        problems.append(problem("mapping", "choose the column that holds the phone number", "required"))
    country = (default_country or "").strip().upper()
    if country and country not in phonenumbers.SUPPORTED_REGIONS:
        problems.append(problem("default_country", "must be a country code such as DE, GB or US", "invalid"))
    if problems:
        raise ImportInvalid("The column mapping is not usable.", details=problems)
    job.mapping, job.default_country, job.status = cleaned, country, ImportJob.Status.QUEUED
    job.save(update_fields=["mapping", "default_country", "status"])
    transaction.on_commit(lambda: tenant_task_enqueue(import_run_task, job.pk, q_options={"timeout": 3600}))
    return job


@tenant_task
def import_run_task(job_id: int) -> None:
    import_run(job=ImportJob.objects.get(pk=job_id))


def import_run(*, job: ImportJob) -> ImportJob:
    """Runs a queued import to its end, recording progress after each batch."""
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        job.refresh_from_db()
        return job
    try:
        total = sum(1 for _ in _rows(job)) - 1
        ImportJob.objects.filter(pk=job.pk).update(rows_total=max(total, 0))
        runner = _Runner(job)
        batch: list[tuple[int, list[str]]] = []
        rows = _rows(job)
        next(rows, None)  # the header
        for line, row in rows:
            batch.append((line, row))
            if len(batch) >= BATCH_ROWS:
                runner.run_batch(batch)
                batch = []
        if batch:
            runner.run_batch(batch)
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, finished_at=timezone.now())
        ImportChunk.objects.filter(job=job).delete()
    except Exception as error:
        logger.exception("Contact import %s failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            finished_at=timezone.now(),
            failure=f"{type(error).__name__}: {error}"[:2000],
        )
    job.refresh_from_db()
    return job


def _rows(job: ImportJob) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each CSV record, the header first, read one stored chunk at a time."""
    reader = csv.reader(_text_lines(job))
    for row in reader:
        if row and any(cell.strip() for cell in row):
            yield reader.line_num, row


def _text_lines(job: ImportJob) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(job.encoding)(errors="replace")
    pending = ""
    seq = 0
    while True:
        data = ImportChunk.objects.filter(job=job, seq=seq).values_list("data", flat=True).first()
        if data is None:
            break
        lines = (pending + decoder.decode(bytes(data))).split("\n")
        pending = lines.pop()
        for line in lines:
            yield line + "\n"
        seq += 1
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


@dataclass
class _Row:
    line: int
    wa_id: str
    profile: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)

    def merge(self, later: _Row) -> None:
        self.profile.update(later.profile)
        self.attributes.update(later.attributes)
        self.tags += [tag for tag in later.tags if tag not in self.tags]


class _Runner:
    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.definitions = attribute_definitions_by_key()
        self.columns = {int(column): target for column, target in job.mapping.items()}
        self.phone_column = next(column for column, target in self.columns.items() if target == "phone")

    def run_batch(self, batch: list[tuple[int, list[str]]]) -> None:
        rows: dict[str, _Row] = {}
        errors: list[ImportRowError] = []
        for line, cells in batch:
            try:
                row = self._row(line, cells)
            except ContactInvalid as invalid:
                phone = cells[self.phone_column] if self.phone_column < len(cells) else ""
                errors += [
                    ImportRowError(
                        job=self.job,
                        row_number=line,
                        phone=phone[:64],
                        field=detail["field"][:80],
                        message=str(detail["message"])[:500],
                    )
                    for detail in invalid.details
                ]
                continue
            if row.wa_id in rows:
                rows[row.wa_id].merge(row)
            else:
                rows[row.wa_id] = row
        with transaction.atomic():
            created, updated = self._write(rows)
            ImportRowError.objects.bulk_create(errors)
            ImportJob.objects.filter(pk=self.job.pk).update(
                rows_done=F("rows_done") + len(batch),
                created_count=F("created_count") + created,
                updated_count=F("updated_count") + updated,
                error_count=F("error_count") + len({error.row_number for error in errors}),
            )

    def _row(self, line: int, cells: list[str]) -> _Row:
        problems: list[dict[str, str]] = []
        profile_raw: dict[str, str] = {}
        attributes_raw: dict[str, str] = {}
        tags: list[str] = []
        wa_id = ""
        for column, target in self.columns.items():
            value = cells[column].strip() if column < len(cells) else ""
            if target == "phone":
                try:
                    wa_id = phone_to_wa_id(value, default_country=self.job.default_country)
                except ContactInvalid as invalid:
                    problems += invalid.details
            elif not value:
                continue  # an empty cell changes nothing
            elif target == "tags":
                tags, tag_problems = tags_clean(value.replace(",", ";").split(";"))
                problems += tag_problems
            elif target.startswith(ATTRIBUTE_PREFIX):
                attributes_raw[target.removeprefix(ATTRIBUTE_PREFIX)] = value
            else:
                profile_raw[target] = value
        profile, profile_problems = profile_clean(profile_raw)
        attributes, attribute_problems = attributes_clean(attributes_raw, definitions=self.definitions)
        problems += profile_problems + attribute_problems
        if problems:
            raise ContactInvalid("Invalid row.", details=problems)
        return _Row(line=line, wa_id=wa_id, profile=profile, attributes=attributes, tags=tags)

    def _write(self, rows: dict[str, _Row]) -> tuple[int, int]:
        """Creates or updates the batch's contacts: COPY into a temporary table, then one INSERT ..
        ON CONFLICT that merges into known contacts (non-empty fields replace, attributes merge, tags
        are added). Returns (created, updated)."""
        if not rows:
            return 0, 0
        with connection.cursor() as cursor:
            cursor.execute(_STAGE_CREATE)
            cursor.execute("TRUNCATE contact_import_stage")
            with cursor.copy(f"COPY contact_import_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
                for row in rows.values():
                    copy.write_row(
                        [
                            row.wa_id,
                            *[row.profile.get(name, "") for name in PROFILE_FIELDS],
                            json.dumps(row.attributes),
                            json.dumps(row.tags[:TAGS_MAX]),
                        ]
                    )
            cursor.execute(_UPSERT.format(table=Contact._meta.db_table, tags_max=TAGS_MAX))
            inserted = [flag for (flag,) in cursor.fetchall()]
        created = sum(1 for flag in inserted if flag)
        return created, len(inserted) - created


_STAGE_COLUMNS = ["wa_id", *PROFILE_FIELDS, "attributes", "tags"]
_STAGE_CREATE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS contact_import_stage ("
    + ", ".join(f"{name} text" for name in _STAGE_COLUMNS)
    + ")"
)
# An empty profile field changes nothing; `xmax = 0` tells a row inserted from one updated.
_UPSERT = """
INSERT INTO {table} AS contact (wa_id, profile_name, tier, notes, language, timezone, attributes, tags,
                                opted_out, blocked, created_at)
SELECT s.wa_id, s.profile_name, s.tier, s.notes, s.language, s.timezone, s.attributes::jsonb,
       ARRAY(SELECT jsonb_array_elements_text(s.tags::jsonb))::varchar(64)[], false, false, now()
FROM contact_import_stage s
ON CONFLICT (wa_id) DO UPDATE SET
    profile_name = COALESCE(NULLIF(EXCLUDED.profile_name, ''), contact.profile_name),
    tier = COALESCE(NULLIF(EXCLUDED.tier, ''), contact.tier),
    notes = COALESCE(NULLIF(EXCLUDED.notes, ''), contact.notes),
    language = COALESCE(NULLIF(EXCLUDED.language, ''), contact.language),
    timezone = COALESCE(NULLIF(EXCLUDED.timezone, ''), contact.timezone),
    attributes = contact.attributes || EXCLUDED.attributes,
    tags = (contact.tags || ARRAY(SELECT tag FROM unnest(EXCLUDED.tags) AS tag
                                  WHERE NOT tag = ANY(contact.tags)))[1:{tags_max}]
RETURNING (xmax = 0)
"""


ERROR_COLUMNS = ["row", "phone", "field", "error"]


def import_errors_lines(*, job: ImportJob) -> Iterator[str]:
    """The error report as CSV text, streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ERROR_COLUMNS)
    errors = ImportRowError.objects.filter(job=job).order_by("row_number", "id")
    for number, error in enumerate(errors.iterator(chunk_size=2000), start=1):
        phone = "'" + error.phone if error.phone[:1] in ("=", "+", "-", "@") else error.phone
        writer.writerow([error.row_number, phone, error.field, error.message])
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
