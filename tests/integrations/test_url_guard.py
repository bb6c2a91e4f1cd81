"""The SSRF guard: only https URLs resolving to public addresses, at registration and at delivery."""

from __future__ import annotations

import socket

import httpx
import pytest
from django.utils import timezone

from integrations.errors import EndpointUrlRefused
from integrations.models import Delivery
from integrations.services import endpoint_create, endpoint_test_send
from integrations.url_guard import endpoint_url_check
from integrations.worker import deliveries_run_once


@pytest.fixture
def guarded(settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = False


@pytest.fixture
def dns(monkeypatch):
    """Host name -> address, as getaddrinfo answers it."""
    answers: dict[str, str] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror("not found")
        family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(
    "url, address",
    [
        ("https://localhost/hook", "127.0.0.1"),
        ("https://intranet.example/hook", "10.1.2.3"),
        ("https://router.example/hook", "192.168.1.1"),
        ("https://metadata.example/latest", "169.254.169.254"),
        ("https://v6.example/hook", "::1"),
        ("https://mapped.example/hook", "::ffff:127.0.0.1"),
        ("https://cgnat.example/hook", "100.64.0.1"),
        ("https://zero.example/hook", "0.0.0.0"),
    ],
)
def test_a_host_resolving_to_a_private_address_is_refused(guarded, dns, url, address):
    dns[url.split("/")[2]] = address
    with pytest.raises(EndpointUrlRefused, match="not public"):
        endpoint_url_check(url)


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example/x", "ftp://hooks.example/x", "hooks.example/x", "https://user:pw@hooks.example/x"],
)
def test_anything_but_a_plain_https_url_is_refused(guarded, dns, url):
    dns["hooks.example"] = "93.184.216.34"
    with pytest.raises(EndpointUrlRefused):
        endpoint_url_check(url)


def test_a_public_https_url_is_accepted_and_an_unknown_host_refused(guarded, dns):
    dns["hooks.example"] = "93.184.216.34"
    endpoint_url_check("https://hooks.example/x")
    with pytest.raises(EndpointUrlRefused, match="does not resolve"):
        endpoint_url_check("https://nowhere.example/x")


def test_a_host_that_later_resolves_inside_is_refused_at_delivery(guarded, dns, tenant_a, in_tenant):
    dns["hooks.example"] = "93.184.216.34"
    with in_tenant(tenant_a):
        endpoint, _ = endpoint_create(url="https://hooks.example/x", event_types=["order.created"])
        delivery = endpoint_test_send(endpoint=endpoint)
    dns["hooks.example"] = "127.0.0.1"

    deliveries_run_once(now=timezone.now())

    with in_tenant(tenant_a):
        delivery.refresh_from_db()
        assert delivery.state == Delivery.State.FAILED
        assert delivery.response_status is None
        assert delivery.last_error.startswith(
            "Refused: The host hooks.example resolves to an address that is not public"
        )


def test_private_addresses_are_allowed_when_the_setting_says_so(settings, dns):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = True
    endpoint_url_check("http://127.0.0.1:8000/hook")


def test_a_delivery_goes_to_the_address_the_guard_approved_whatever_dns_answers_next(
    guarded, monkeypatch, tenant_a, in_tenant
):
    """DNS rebinding: the host resolves outside for the check, then inside. The call goes to the
    approved address, naming the host in the Host header and the TLS server name; the HTTP client
    does not look the host up again."""
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    looked_up = []

    def getaddrinfo(host, port, *args, **kwargs):
        looked_up.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    sent = []

    def post(self, url, *, content, headers, extensions):
        sent.append((str(url), headers, extensions))
        return httpx.Response(204, request=httpx.Request("POST", url))

    with in_tenant(tenant_a):
        monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))])
        endpoint, _ = endpoint_create(url="https://hooks.example:8443/x?y=1", event_types=["order.created"])
        delivery = endpoint_test_send(endpoint=endpoint)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(httpx.Client, "post", post)

    deliveries_run_once(now=timezone.now())

    with in_tenant(tenant_a):
        delivery.refresh_from_db()
        assert delivery.state == Delivery.State.SUCCEEDED
    assert looked_up == ["hooks.example"]
    [(url, headers, extensions)] = sent
    assert url == "https://93.184.216.34:8443/x?y=1"
    assert headers["Host"] == "hooks.example:8443"
    assert extensions == {"sni_hostname": "hooks.example"}
