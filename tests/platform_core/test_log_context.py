"""Log lines say which request and which tenant they come from; JSON logs for log shippers."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from platform_core.log_context import JsonFormatter, LogContextFilter, request_id_bound
from tests.conftest import ApiClient


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(LogContextFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def captured():
    handler = _Capture()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_a_request_gets_an_id_and_its_log_lines_carry_it_and_the_tenant(tenant_a, captured):
    response = ApiClient("alpha.localhost").get("/api/v1/no-such-thing")

    assert response.status_code in (401, 404)
    request_id = response["X-Request-ID"]
    assert len(request_id) == 16
    warning = next(line for line in captured.lines if line["logger"] == "django.request")
    assert warning["request_id"] == request_id
    assert warning["tenant"] == tenant_a.schema_name
    assert warning["level"] == "WARNING"


def test_a_sane_request_id_from_the_caller_is_kept_and_a_strange_one_replaced(tenant_a):
    client = ApiClient("alpha.localhost")
    assert client.get("/", headers={"X-Request-ID": "lb-4f2a.77"})["X-Request-ID"] == "lb-4f2a.77"
    replaced = client.get("/", headers={"X-Request-ID": "<script>\n"})["X-Request-ID"]
    assert replaced != "<script>\n" and len(replaced) == 16


def test_a_json_line_holds_the_message_the_context_and_the_exception(db):
    record = logging.LogRecord("webhooks.tasks", logging.ERROR, __file__, 1, "entry %s failed", (7,), None)
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    connection.set_schema_to_public()
    with request_id_bound("journal-7"):
        LogContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "entry 7 failed"
    assert line["request_id"] == "journal-7"
    assert line["tenant"] == "public"
    assert "ValueError: boom" in line["exception"]
