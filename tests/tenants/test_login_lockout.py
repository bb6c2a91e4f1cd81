"""Password guessing on the platform admin and the tenant admins: per-user and per-address lockouts
(django-axes), kept apart per tenant schema, answered with a clear page or the API error shape."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django_tenants.utils import schema_context

from platform_core.client_address import client_address
from tests.conftest import ApiClient

PASSWORD = "a long and unguessable passphrase"
LOGIN = "/admin/login/?next=/admin/"
HOSTS = {"platform admin": ("localhost", "public"), "tenant admin": ("alpha.localhost", "t_alpha")}


def _user(schema: str, username: str) -> None:
    """`username` in `schema` with PASSWORD (alpha's `admin` exists already, without a password)."""
    with schema_context(schema):
        User = get_user_model()
        user = User.objects.filter(username=username).first() or User(
            username=username, is_staff=True, is_superuser=True
        )
        user.set_password(PASSWORD)
        user.save()


def _login(host: str, username: str, password: str, address: str, **headers) -> tuple[int, ApiClient]:
    client = ApiClient(host)
    response = client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )
    return response.status_code, client


def _logged_in(client: ApiClient) -> bool:
    return client.get("/admin/").status_code == 200


@pytest.fixture
def limit() -> int:
    return settings.AXES_FAILURE_LIMIT


@pytest.mark.parametrize("site", HOSTS)
def test_a_user_is_locked_out_after_the_limit_even_with_the_right_password_from_a_new_address(
    db, site, limit
):
    host, schema = HOSTS[site]
    _user(schema, "admin")
    for attempt in range(limit - 1):
        status, _ = _login(host, "admin", f"guess {attempt}", f"198.51.100.{attempt + 1}")
        assert status == 200  # the login form again, with its error

    status, _ = _login(host, "admin", "last guess", "198.51.100.99")
    assert status == 429
    status, client = _login(host, "admin", PASSWORD, "203.0.113.7")  # the right password, elsewhere
    assert status == 429
    assert not _logged_in(client)
    # Recorded under the schema-qualified name (what `manage.py axes_reset_username` takes); the refused
    # right password counted as one more failure.
    assert AccessAttempt.objects.filter(username=f"{schema}:admin").count() == limit + 1


@pytest.mark.parametrize("site", HOSTS)
def test_an_address_is_locked_out_after_the_limit_whatever_user_names_it_tries(db, site, limit):
    host, schema = HOSTS[site]
    _user(schema, "olivia")
    for attempt in range(limit):
        status, _ = _login(host, f"guess{attempt}", "wrong password", "198.51.100.20")
    assert status == 429

    status, client = _login(host, "olivia", PASSWORD, "198.51.100.20")
    assert status == 429 and not _logged_in(client)
    status, client = _login(host, "olivia", PASSWORD, "198.51.100.21")  # the same user from another address
    assert status == 302 and _logged_in(client)


def test_a_locked_out_admin_of_one_tenant_leaves_the_admin_of_another_and_of_the_platform_alone(
    tenant_a, tenant_b, limit
):
    for schema in ("t_alpha", "t_beta", "public"):
        _user(schema, "admin")
    for attempt in range(limit):
        _login("alpha.localhost", "admin", f"guess {attempt}", f"198.51.100.{attempt + 1}")
    assert _login("alpha.localhost", "admin", PASSWORD, "203.0.113.1")[0] == 429

    status, client = _login("beta.localhost", "admin", PASSWORD, "203.0.113.2")
    assert status == 302 and _logged_in(client)
    status, client = _login("localhost", "admin", PASSWORD, "203.0.113.3")
    assert status == 302 and _logged_in(client)


def test_the_lockout_is_a_page_for_browsers_and_the_error_shape_for_json_clients(db, limit):
    _user("t_alpha", "admin")
    for attempt in range(limit):
        _login("alpha.localhost", "admin", f"guess {attempt}", "198.51.100.30")
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)

    client = ApiClient("alpha.localhost")
    page = client.post(
        LOGIN,
        {"username": "admin", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.30",
        HTTP_ACCEPT="text/html,application/xhtml+xml",
    )
    assert page.status_code == 429 and page["Content-Type"].startswith("text/html")
    assert page["Retry-After"] == str(minutes * 60)
    assert (
        b"Login temporarily locked" in page.content
        and f"locked for {minutes} minutes".encode() in page.content
    )

    answer = client.post(
        LOGIN,
        {"username": "admin", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.30",
        HTTP_ACCEPT="application/json",
    )
    assert answer.status_code == 429 and answer["Retry-After"] == str(minutes * 60)
    error = answer.json()["error"]
    assert error["code"] == "login_locked_out"
    assert f"locked for {minutes} minutes" in error["message"]
    assert error["details"] == {"retry_after_s": minutes * 60}


def test_behind_a_proxy_addresses_come_from_x_forwarded_for_and_spoofed_entries_do_not_help(
    db, settings, limit
):
    settings.TRUSTED_PROXY_COUNT = 1
    _user("t_alpha", "olivia")
    proxy = "10.0.0.1"
    for attempt in range(limit):
        # The attacker makes up a new leftmost entry each time; the proxy appends the real address.
        status, _ = _login(
            "alpha.localhost",
            f"guess{attempt}",
            "wrong",
            proxy,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}, 198.51.100.40",
        )
    assert status == 429
    assert AccessAttempt.objects.filter(ip_address="198.51.100.40").count() == limit

    status, client = _login(
        "alpha.localhost", "olivia", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.41"
    )
    assert status == 302 and _logged_in(client)  # another client behind the same proxy


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.1"),  # no proxy trusted: the header is the client's own claim
        (1, "192.0.2.9, 198.51.100.1", "198.51.100.1"),
        (2, "192.0.2.9, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "198.51.100.1"),
        (1, "not-an-address", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
