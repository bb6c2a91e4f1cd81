"""The logins `make run` prints work: tenants get invitations, the demo sets its users' passwords."""

from __future__ import annotations

from platform_core import demo
from tests.conftest import ApiClient


def _logs_in(host: str, username: str, password: str) -> bool:
    client = ApiClient(host)
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return response.status_code == 302 and client.get("/admin/").status_code == 200


def test_the_printed_demo_logins_work_on_both_admins_and_again_after_a_restart(db, tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "CREDENTIALS_FILE", tmp_path / "demo-credentials.json")

    first = demo.demo_seed()
    assert first.tenant_admin_password and first.platform_admin_password
    assert _logs_in("demo.localhost", first.tenant_admin_username, first.tenant_admin_password)
    assert _logs_in("localhost", first.platform_admin_username, first.platform_admin_password)

    again = demo.demo_seed()
    assert again.tenant_admin_password == first.tenant_admin_password
    assert _logs_in("demo.localhost", again.tenant_admin_username, again.tenant_admin_password)
