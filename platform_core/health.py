"""Probes for load balancers and orchestrators: `/healthz` (liveness) and `/readyz` (readiness).

`HealthProbeMiddleware` comes first in MIDDLEWARE and answers both paths on any host (a load
balancer polls by address), before the tenant lookup, the host check and the HTTPS redirect:

* `/healthz`: 200 `{"status": "ok"}` as long as the process answers; touches no database.
* `/readyz`: 200 when the database answers (`SELECT 1`), its migrations are applied
  (tenants.readiness, checked until it first succeeds: a running process never un-migrates), and
  every process type in READINESS_REQUIRED_PROCESSES has a heartbeat younger than
  HEARTBEAT_STALE_AFTER_S; else 503. The body lists each known process type's freshest beat either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from platform_core.heartbeats import PROCESS_TYPES, heartbeats_by_type
from tenants.readiness import database_unready_reason

logger = logging.getLogger(__name__)

_migrations_checked = False


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    report = readiness_report()
    return JsonResponse(report, status=200 if report["status"] == "ready" else 503)


def readiness_report() -> dict[str, Any]:
    """`{"status": "ready"|"unready", "problems": [...], "processes": {type: {...}}}`; reads only."""
    try:
        database_problem = _database_problem()
        beats = heartbeats_by_type(alive_within_s=settings.HEARTBEAT_STALE_AFTER_S) if not database_problem else {}
    except DatabaseError as error:
        logger.warning("Readiness check: the database did not answer: %s", type(error).__name__)
        connection.close()
        database_problem, beats = "the database does not answer", {}
    problems = [database_problem] if database_problem else []
    stale_after = settings.HEARTBEAT_STALE_AFTER_S
    processes: dict[str, dict[str, Any]] = {}
    for process_type in dict.fromkeys([*PROCESS_TYPES, *beats]):
        beat = beats.get(process_type)
        required = process_type in settings.READINESS_REQUIRED_PROCESSES
        state = "missing" if beat is None else "stale" if beat.age_s > stale_after else "fresh"
        processes[process_type] = {
            "required": required,
            "state": state,
            "last_beat_at": beat.last_beat_at.isoformat() if beat else None,
            "age_s": round(beat.age_s, 1) if beat else None,
            "alive": beat.alive if beat else 0,
        }
        if required and state != "fresh" and not database_problem:
            detail = "no heartbeat yet" if beat is None else f"last heartbeat {beat.age_s:.0f} s ago"
            problems.append(f"{process_type} is {state} ({detail}; stale after {stale_after:g} s)")
    return {"status": "unready" if problems else "ready", "problems": problems, "processes": processes}


def _database_problem() -> str | None:
    global _migrations_checked
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if not _migrations_checked:
        reason = database_unready_reason()
        if reason:
            return reason
        _migrations_checked = True
    return None


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {"/healthz": healthz, "/readyz": readyz}


class HealthProbeMiddleware:
    """Answers the probe paths (GET or HEAD) itself; every other request goes on down the stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            response = probe(request)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
