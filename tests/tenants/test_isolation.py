"""Data of tenant A is never readable or writable from tenant B: ORM, API and admin."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.test import RequestFactory

from tests.conftest import ApiClient
from tests.factories import TenantUserFactory


def test_orm_rows_stay_in_their_schema(tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        Group.objects.create(name="alpha baristas")
    with in_tenant(tenant_b):
        assert not Group.objects.filter(name="alpha baristas").exists()
        Group.objects.create(name="beta installers")
    with in_tenant(tenant_a):
        assert list(Group.objects.values_list("name", flat=True)) == ["alpha baristas"]
    assert not Group.objects.filter(name__in=["alpha baristas", "beta installers"]).exists()


def test_tenant_users_log_in_only_on_their_own_host(tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        TenantUserFactory(username="olivia")

    # Logins are throttled per request (django-axes), so authenticate() needs one.
    login = RequestFactory().post("/admin/login/")
    with in_tenant(tenant_a):
        assert authenticate(login, username="olivia", password="correct horse battery staple") is not None
    with in_tenant(tenant_b):
        assert authenticate(login, username="olivia", password="correct horse battery staple") is None
    assert authenticate(login, username="olivia", password="correct horse battery staple") is None

    credentials = {"username": "olivia", "password": "correct horse battery staple"}
    own = ApiClient("alpha.localhost")
    assert own.post("/admin/login/?next=/admin/", credentials).status_code == 302
    assert own.get("/admin/").status_code == 200
    for host in ("beta.localhost", "localhost"):
        other = ApiClient(host)
        response = other.post("/admin/login/?next=/admin/", credentials)
        assert response.status_code == 200, host  # the login form again, with an error
        assert other.get("/admin/").status_code == 302, host


def test_a_session_from_one_tenant_is_worthless_on_another(tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        TenantUserFactory(username="sam")
    alpha = ApiClient("alpha.localhost")
    alpha.post("/admin/login/?next=/admin/", {"username": "sam", "password": "correct horse battery staple"})
    session_cookie = alpha.cookies["sessionid"].value

    beta = ApiClient("beta.localhost")
    beta.cookies["sessionid"] = session_cookie
    assert beta.get("/admin/").status_code == 302


def test_tenant_admin_shows_only_own_api_keys(tenant_a, tenant_b, in_tenant, api_a, api_b):
    with in_tenant(tenant_a):
        TenantUserFactory(username="keymaster")
    client = ApiClient("alpha.localhost")
    client.post(
        "/admin/login/?next=/admin/", {"username": "keymaster", "password": "correct horse battery staple"}
    )

    page = client.get("/admin/tenants/apikey/")
    assert page.status_code == 200
    beta_prefix = api_b.key.split("_")[0] + "_" + api_b.key.split("_")[1]
    alpha_prefix = api_a.key.split("_")[0] + "_" + api_a.key.split("_")[1]
    assert alpha_prefix.encode() in page.content
    assert beta_prefix.encode() not in page.content
