"""Every API error leaves in one shape, without stack traces or secrets."""

from __future__ import annotations

import json

from tenants import services
from tests.factories import api_key_for


def test_unexpected_crash_is_a_500_in_the_error_shape_without_internals(platform_api, monkeypatch, caplog):
    def explode(**kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(services, "tenant_get", explode)
    response = platform_api.get("/api/platform/tenants/alpha")

    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert any("hunter2" in record.getMessage() or record.exc_info for record in caplog.records)


def test_oversized_body_is_413(platform_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = platform_api.post_json("/api/platform/tenants", {"slug": "big", "name": "x" * 5000})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_malformed_json_is_a_clear_error(platform_api):
    response = platform_api.post("/api/platform/tenants", data="{not json", content_type="application/json")

    assert response.status_code in (400, 422)
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_api_key_never_appears_in_responses_other_than_its_creation(api_a, tenant_a):
    created = api_key_for(tenant_a)
    for path in ("/api/v1/api-keys", "/api/v1/me"):
        assert created.key not in json.dumps(api_a.get(path).json())
