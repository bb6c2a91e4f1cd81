"""A new tenant's first user sets their own password through a single-use, expiring invitation link
on the tenant's own host; the platform API never hands out a password."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.invitations import tenant_user_invite
from tenants.models import Invitation, Tenant
from tests.conftest import ApiClient

GOOD_PASSWORD = "lantern orbit velvet 42 canyon"


@pytest.fixture(autouse=True)
def _development_urls(settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"


def _path_of(url: str) -> str:
    return urlsplit(url).path


def _invite(tenant: Tenant, username: str = "olivia") -> str:
    return _path_of(tenant_user_invite(tenant=tenant, username=username, email=f"{username}@example.com").url)


def _set_password(host: str, path: str, password: str, confirm: str | None = None):
    return ApiClient(host).post(path, {"new_password1": password, "new_password2": confirm or password})


def _admin_login(host: str, username: str, password: str) -> ApiClient:
    client = ApiClient(host)
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    assert response.status_code == 302, response.content
    return client


def test_a_new_tenants_first_user_sets_a_password_through_the_link_then_logs_in(platform_api, settings):
    response = platform_api.post_json(
        "/api/platform/tenants",
        {"slug": "delta-cafe", "name": "Delta Cafe", "admin_email": "owner@delta.example"},
    )
    assert response.status_code == 201, response.content
    admin = response.json()["admin"]
    assert "password" not in admin and admin["username"] == "owner@delta.example"
    assert admin["login_url"] == "http://delta-cafe.localhost:8000/app/"
    url = urlsplit(admin["invitation_url"])
    assert (url.scheme, url.netloc) == ("http", "delta-cafe.localhost:8000") and url.path.startswith(
        "/invite/"
    )
    token = url.path.split("/")[2]
    stored = Invitation.objects.get(tenant__slug="delta-cafe")
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
    ttl = timedelta(hours=settings.INVITATION_TTL_HOURS)
    assert timezone.now() + ttl - timedelta(minutes=1) < stored.expires_at <= timezone.now() + ttl
    with schema_context("t_delta_cafe"):
        user = get_user_model().objects.get(username="owner@delta.example")
        assert user.is_superuser and user.email == "owner@delta.example" and not user.has_usable_password()
    assert (
        ApiClient("delta-cafe.localhost")
        .post("/admin/login/?next=/admin/", {"username": "owner@delta.example", "password": ""})
        .status_code
        == 200
    )  # no password logs in before the link is used

    browser = ApiClient("delta-cafe.localhost")
    browser.handler.enforce_csrf_checks = True
    page = browser.get(url.path)
    assert (
        page.status_code == 200
        and b"Set your password" in page.content
        and b"owner@delta.example" in page.content
    )
    fields = {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD}
    assert browser.post(url.path, fields).status_code == 403  # no CSRF token
    done = browser.post(url.path, {**fields, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
    assert done.status_code == 302 and done["Location"] == "/app/login/?next=%2Fapp%2F"

    client = _admin_login("delta-cafe.localhost", "owner@delta.example", GOOD_PASSWORD)
    assert client.get("/admin/").status_code == 200
    assert Invitation.objects.get(pk=stored.pk).used_at is not None


def test_a_weak_password_is_refused_with_the_validators_messages_and_the_link_stays_usable(tenant_a):
    path = _invite(tenant_a)

    for weak, message in (
        ("short1", "This password is too short. It must contain at least 12 characters."),
        ("123456789012345", "This password is entirely numeric."),
        ("password1234", "This password is too common."),
        ("olivia@example.com", "The password is too similar to the email address."),
    ):
        response = _set_password("alpha.localhost", path, weak)
        assert response.status_code == 200, weak
        assert message in response.content.decode(), weak
    mismatch = _set_password("alpha.localhost", path, GOOD_PASSWORD, confirm=GOOD_PASSWORD + "!")
    assert mismatch.status_code == 200 and "didn’t match" in mismatch.content.decode()
    with schema_context("t_alpha"):
        assert not get_user_model().objects.get(username="olivia").has_usable_password()

    assert _set_password("alpha.localhost", path, GOOD_PASSWORD).status_code == 302
    _admin_login("alpha.localhost", "olivia", GOOD_PASSWORD)


def test_a_used_link_is_refused_and_the_password_it_set_stays(tenant_a):
    path = _invite(tenant_a)
    assert _set_password("alpha.localhost", path, GOOD_PASSWORD).status_code == 302

    again = _set_password("alpha.localhost", path, "another fine passphrase 7")
    assert again.status_code == 410 and b"was used already" in again.content
    assert ApiClient("alpha.localhost").get(path).status_code == 410
    _admin_login("alpha.localhost", "olivia", GOOD_PASSWORD)


def test_an_expired_link_is_refused(tenant_a):
    path = _invite(tenant_a)
    Invitation.objects.filter(tenant=tenant_a).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert ApiClient("alpha.localhost").get(path).status_code == 410
    response = _set_password("alpha.localhost", path, GOOD_PASSWORD)
    assert response.status_code == 410 and b"has expired" in response.content
    with schema_context("t_alpha"):
        assert not get_user_model().objects.get(username="olivia").has_usable_password()


@pytest.mark.parametrize("token", ["not-a-token", "x" * 43])
def test_an_unknown_token_is_not_found(tenant_a, token):
    _invite(tenant_a)
    assert ApiClient("alpha.localhost").get(f"/invite/{token}/").status_code == 404
    assert _set_password("alpha.localhost", f"/invite/{token}/", GOOD_PASSWORD).status_code == 404


def test_a_link_works_only_on_its_own_tenants_host(tenant_a, tenant_b):
    path = _invite(tenant_a)
    with schema_context("t_beta"):
        get_user_model().objects.create_user(username="olivia", password=None)

    for host in ("beta.localhost", "localhost"):
        assert ApiClient(host).get(path).status_code == 404, host
        assert _set_password(host, path, GOOD_PASSWORD).status_code == 404, host
    with schema_context("t_beta"):
        assert not get_user_model().objects.get(username="olivia").has_usable_password()
    assert _set_password("alpha.localhost", path, GOOD_PASSWORD).status_code == 302


def test_a_new_link_from_the_platform_api_replaces_the_unused_one(platform_api, tenant_a):
    first = _invite(tenant_a)
    response = platform_api.post_json("/api/platform/tenants/alpha/invitations", {"username": "olivia"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "olivia" and body["login_url"] == "http://alpha.localhost:8000/app/"
    assert ApiClient("alpha.localhost").get(first).status_code == 404
    assert (
        _set_password("alpha.localhost", _path_of(body["invitation_url"]), GOOD_PASSWORD).status_code == 302
    )
    assert (
        platform_api.post_json("/api/platform/tenants/gamma/invitations", {"username": "olivia"}).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"admin_username": "no spaces allowed"}, "admin_username"),
        ({"admin_email": "not-an-address"}, "admin_email"),
    ],
)
def test_a_malformed_first_user_is_422_and_creates_nothing(platform_api, fields, field):
    response = platform_api.post_json(
        "/api/platform/tenants", {"slug": "epsilon", "name": "Epsilon", **fields}
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_user" and error["details"] == [{"field": field}]
    assert not Tenant.objects.filter(slug="epsilon").exists()


@pytest.mark.parametrize(
    ("public_base_url", "tenant_url"),
    [
        ("https://platform.example", "https://alpha.localhost"),
        ("https://platform.example:8443/", "https://alpha.localhost:8443"),
        ("http://localhost:80", "http://alpha.localhost"),
    ],
)
def test_links_take_the_scheme_and_port_of_the_public_base_url(
    platform_api, tenant_a, settings, public_base_url, tenant_url
):
    settings.PUBLIC_BASE_URL = public_base_url.rstrip("/")
    body = platform_api.post_json("/api/platform/tenants/alpha/invitations", {"username": "olivia"}).json()

    assert body["login_url"] == f"{tenant_url}/app/"
    assert body["invitation_url"].startswith(f"{tenant_url}/invite/")


def test_a_malformed_user_for_a_new_link_is_422_naming_the_field(platform_api, tenant_a):
    response = platform_api.post_json("/api/platform/tenants/alpha/invitations", {"username": "two words"})

    assert response.status_code == 422
    assert response.json()["error"]["details"] == [{"field": "username"}]
    assert not Invitation.objects.filter(tenant=tenant_a, username="two words").exists()


def test_a_link_of_a_user_deleted_since_is_not_found(tenant_a):
    path = _invite(tenant_a)
    with schema_context("t_alpha"):
        get_user_model().objects.filter(username="olivia").delete()

    assert ApiClient("alpha.localhost").get(path).status_code == 404
    assert _set_password("alpha.localhost", path, GOOD_PASSWORD).status_code == 404
