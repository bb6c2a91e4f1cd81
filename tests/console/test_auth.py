"""Logging in to each console, the pages' protection, and sessions that mean nothing on another host."""

from __future__ import annotations

import re

from django.contrib.auth.models import User

from tests.conftest import host_of
from tests.console.conftest import PASSWORD, console_client


def _csrf(client, path):
    page = client.get(path)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_a_tenant_user_logs_in_on_the_tenant_host_and_lands_in_the_inbox(tenant_a, user_a):
    client = console_client(host_of(tenant_a))
    token = _csrf(client, "/app/login/")
    response = client.post(
        "/app/login/", {"username": "ana", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    inbox = client.get(client.get("/app/").url)
    assert inbox.status_code == 200
    assert "Inbox" in inbox.content.decode()
    assert "Alpha Coffee" in inbox.content.decode()


def test_a_wrong_password_is_refused_with_a_message(tenant_a, user_a):
    client = console_client(host_of(tenant_a))
    token = _csrf(client, "/app/login/")
    response = client.post(
        "/app/login/", {"username": "ana", "password": "nope", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_a_login_without_the_csrf_token_is_refused(tenant_a, user_a):
    client = console_client(host_of(tenant_a))
    response = client.post("/app/login/", {"username": "ana", "password": PASSWORD})
    assert response.status_code == 403


def test_pages_send_anonymous_visitors_to_the_login_page(tenant_a):
    response = console_client(host_of(tenant_a)).get("/app/inbox/")
    assert response.status_code == 302
    assert response.url == "/app/login/?next=%2Fapp%2Finbox%2F"


def test_an_htmx_request_after_the_session_ended_reloads_the_login_page(tenant_a):
    response = console_client(host_of(tenant_a)).get("/app/inbox/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/app/login/")


def test_a_user_of_one_tenant_cannot_log_in_on_another_tenants_host(tenant_b, user_a):
    client = console_client(host_of(tenant_b))
    token = _csrf(client, "/app/login/")
    response = client.post(
        "/app/login/", {"username": "ana", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    assert client.get("/app/inbox/").status_code == 302


def test_another_tenants_session_cookie_is_anonymous_here(tenant_a, tenant_b, console_a):
    stolen = console_a.cookies["sessionid"].value
    client = console_client(host_of(tenant_b))
    client.cookies["sessionid"] = stolen
    response = client.get("/app/inbox/")
    assert response.status_code == 302
    assert response.url.startswith("/app/login/")


def test_session_cookies_are_host_only_and_http_only(tenant_a, user_a):
    client = console_client(host_of(tenant_a))
    token = _csrf(client, "/app/login/")
    client.post("/app/login/", {"username": "ana", "password": PASSWORD, "csrfmiddlewaretoken": token})
    cookie = client.cookies["sessionid"]
    assert cookie["domain"] == ""
    assert cookie["httponly"]


def test_logging_out_ends_the_session(console_a):
    token = _csrf(console_a, "/app/password/")
    assert console_a.post("/app/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert console_a.get("/app/inbox/").status_code == 302


def test_changing_the_password_needs_the_old_one_and_keeps_the_session(
    tenant_a, user_a, console_a, in_tenant
):
    token = _csrf(console_a, "/app/password/")
    new = "a much longer passphrase 42"
    refused = console_a.post(
        "/app/password/",
        {"old_password": "wrong", "new_password1": new, "new_password2": new, "csrfmiddlewaretoken": token},
    )
    assert "Your old password was entered incorrectly" in refused.content.decode()
    response = console_a.post(
        "/app/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    with in_tenant(tenant_a):
        assert User.objects.get(pk=user_a.pk).check_password(new)
    assert console_a.get("/app/inbox/").status_code == 200


def test_the_platform_console_admits_public_staff_only(staff, db):
    User.objects.create_user("plain", password=PASSWORD)
    client = console_client("localhost")
    token = _csrf(client, "/app/login/")
    refused = client.post(
        "/app/login/", {"username": "plain", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert "may not use the platform console" in refused.content.decode()
    client.post("/app/login/", {"username": "operator", "password": PASSWORD, "csrfmiddlewaretoken": token})
    tenants = client.get("/app/tenants/")
    assert tenants.status_code == 200
    assert "Alpha Coffee" in tenants.content.decode()


def test_a_tenant_user_is_unknown_on_the_public_host(tenant_a, user_a):
    client = console_client("localhost")
    token = _csrf(client, "/app/login/")
    response = client.post(
        "/app/login/", {"username": "ana", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    assert client.get("/app/tenants/").status_code == 302


def test_a_suspended_workspace_shows_its_suspension_page(tenant_a, console_a):
    tenant_a.status = tenant_a.Status.SUSPENDED
    tenant_a.save(update_fields=["status"])
    response = console_a.get("/app/inbox/")
    assert response.status_code == 403
    assert "This workspace is suspended" in response.content.decode()
