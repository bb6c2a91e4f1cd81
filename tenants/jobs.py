"""Tenant-aware background jobs on django-q2.

django-q2's workers run in the public schema. A tenant-scoped task is therefore
always enqueued through `tenant_task_enqueue`, which records the schema it must
run in; the worker enters that schema before calling the task. A task decorated
with `@tenant_task` refuses to run in the public schema, so a job that forgot
its tenant fails loudly instead of writing tenant data into public.

Enqueueing is done with `transaction.on_commit` semantics by the ORM broker for
free (its INSERT is part of the caller's transaction); with Redis the enqueue
happens immediately.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from django.utils.module_loading import import_string
from django_q.tasks import async_task
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.context import connection
from tenants.errors import TenantContextMissing
from tenants.models import Tenant
from tenants.selectors import active_tenants, customer_tenants
from tenants.work_pending import schemas_with_work

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def tenant_task(func: F) -> F:
    """Mark a task as tenant-scoped: it runs only inside a tenant schema."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if connection.schema_name == get_public_schema_name():
            raise TenantContextMissing(
                f"{func.__module__}.{func.__qualname__} is tenant-scoped but was called in the public schema; "
                "enqueue it with tenants.jobs.tenant_task_enqueue(schema_name=...)."
            )
        return func(*args, **kwargs)

    wrapper.is_tenant_task = True  # type: ignore[attr-defined]
    return cast(F, wrapper)


def _task_path(func: Callable[..., Any] | str) -> str:
    if isinstance(func, str):
        return func
    return f"{func.__module__}.{func.__qualname__}"


def tenant_task_enqueue(
    func: Callable[..., Any] | str,
    *args: Any,
    schema_name: str | None = None,
    q_options: dict | None = None,
    **kwargs: Any,
) -> str:
    """Queue `func(*args, **kwargs)` to run inside `schema_name` (default: the schema being served now).

    Refuses (TenantContextMissing) when no tenant schema is given and the caller is in public.
    Returns the django-q2 task id.
    """
    schema = schema_name or connection.schema_name
    if not schema or schema == get_public_schema_name():
        raise TenantContextMissing(
            f"Cannot enqueue {_task_path(func)} without a tenant schema: pass schema_name=... "
            "or enqueue it while serving a tenant."
        )
    options = {"task_name": None, **(q_options or {})}
    if options["task_name"] is None:
        options.pop("task_name")
    return async_task(run_in_tenant, schema, _task_path(func), list(args), kwargs, q_options=options)


def run_in_tenant(schema_name: str, task_path: str, args: list, kwargs: dict) -> Any:
    """Worker entry point: enter the tenant's schema, then run the task. Skips suspended or deleted tenants."""
    if not schema_name or schema_name == get_public_schema_name():
        raise TenantContextMissing(
            f"{task_path} was queued without a tenant schema; refusing to run it in public."
        )
    tenant = customer_tenants().filter(schema_name=schema_name).first()
    if tenant is None:
        logger.warning("Skipping %s: tenant schema %s no longer exists.", task_path, schema_name)
        return None
    if tenant.status != Tenant.Status.ACTIVE:
        logger.info("Skipping %s for %s: tenant is %s.", task_path, schema_name, tenant.status)
        return None
    func = import_string(task_path)  # a queued task travels as its dotted path, as django-q2 stores tasks
    with schema_context(schema_name):
        return func(*args, **kwargs)


def schemas_fan_out(schemas: Iterable[str], func: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> list[str]:
    """Queue `func` once per schema of `schemas`, each run inside that schema (a tenant suspended
    meanwhile is skipped when the task runs)."""
    return [tenant_task_enqueue(func, *args, schema_name=schema, **kwargs) for schema in schemas]


def tenants_fan_out(func: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> list[str]:
    """Queue `func` once per active tenant, each run inside its own schema. Suspended tenants are skipped."""
    return schemas_fan_out(active_tenants().values_list("schema_name", flat=True), func, *args, **kwargs)


def tenants_with_work_fan_out(kind: str, func: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> list[str]:
    """Queue `func` once per active tenant that the work-pending index says has work of `kind` due
    (tenants.work_pending): what a frequent schedule uses, so that its cost follows the work, not
    the number of tenants."""
    return schemas_fan_out(schemas_with_work(kind=kind), func, *args, **kwargs)


# --- schedules -----------------------------------------------------------------------------------
# Each app declares its recurring jobs in its own `schedules.py` (a `schedules()` function returning
# ScheduleSpecs); platform_core.schedules collects them and installs them into django-q2.

SCHEDULE_PREFIX = "platform:"
# Every task a schedule starts, and every task it fans out, gets this timeout.
JOB_TIMEOUT_S = 55
# The q_options of a task a schedule fans out.
TASK_OPTIONS = {"timeout": JOB_TIMEOUT_S}


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    every_minutes: int
    # The first run lands on a multiple of the interval from midnight UTC, plus this offset.
    offset_minutes: int = 0
    # True when the job sends messages, directly or by requeueing them.
    sends: bool = False
    timeout_s: int = JOB_TIMEOUT_S

    @property
    def kwargs(self) -> str:
        # django-q2 stores kwargs as a Python literal and hands q_options to async_task.
        return repr({"q_options": {"timeout": self.timeout_s}})

    def first_run(self, now: datetime) -> datetime:
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = (now - midnight).total_seconds() / 60 - self.offset_minutes
        periods = int(elapsed // self.every_minutes) + 1
        return midnight + timedelta(minutes=self.offset_minutes + periods * self.every_minutes)
