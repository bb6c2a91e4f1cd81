"""Fixtures of the webhook and inbound tests: Meta apps, routed numbers in alpha and beta, a signer."""

from __future__ import annotations

import pytest

from tests.conftest import ApiClient
from tests.messaging.factories import (
    FIXTURE_PHONE_ID,
    FIXTURE_WABA_ID,
    SECOND_PHONE_ID,
    SECOND_WABA_ID,
    PhoneNumberFactory,
    meta_app_create,
    route_claim,
)
from webhooks.meta_apps import webhook_apps_forget
from webhooks.signature import compute_signature
from webhooks.tasks import webhook_worker_run

APP_ID = "1234567890123"
APP_SECRET = "platform-app-secret-0123456789abcdef"
VERIFY_TOKEN = "verify-token-alpha-0001"
TENANT_APP_ID = "7777777777777"
TENANT_APP_SECRET = "beta-owned-app-secret-0123456789"


@pytest.fixture(autouse=True)
def _fresh_app_cache():
    webhook_apps_forget()
    yield
    webhook_apps_forget()


@pytest.fixture
def meta_app(db):
    """The platform's own Meta app (no tenant): may deliver to any tenant."""
    return meta_app_create(app_id=APP_ID, secret=APP_SECRET, verify_token=VERIFY_TOKEN)


@pytest.fixture
def public_client(db) -> ApiClient:
    return ApiClient("localhost")


class WebhookPoster:
    """Posts bodies to /webhooks/whatsapp/<app> with Meta's signature, through the real endpoint."""

    def __init__(self, client: ApiClient, app_id: str = APP_ID, secret: str = APP_SECRET):
        self.client, self.app_id, self.secret = client, app_id, secret

    def post(self, body: bytes | str, *, signature: str | None = "sign", app_id: str | None = None):
        raw = body.encode() if isinstance(body, str) else body
        headers = {}
        if signature == "sign":
            headers["X-Hub-Signature-256"] = compute_signature(raw, self.secret)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.client.generic(
            "POST", f"/webhooks/whatsapp/{app_id or self.app_id}", raw, content_type="application/json",
            headers=headers,
        )


@pytest.fixture
def webhook(meta_app, public_client) -> WebhookPoster:
    return WebhookPoster(public_client)


def process_journal() -> int:
    """What a worker does: claim and process everything claimable now, then return."""
    return webhook_worker_run(should_stop=lambda: False, exit_when_idle=True)


@pytest.fixture
def number_a(tenant_a, in_tenant):
    """Alpha owns the fixtures' WABA and phone number (routing index + tenant rows)."""
    with in_tenant(tenant_a):
        number = PhoneNumberFactory(phone_number_id=FIXTURE_PHONE_ID, display_phone_number="15550783881",
                                    account__waba_id=FIXTURE_WABA_ID)
    route_claim(tenant=tenant_a, waba_id=FIXTURE_WABA_ID, phone_number_ids=[FIXTURE_PHONE_ID])
    return number


@pytest.fixture
def number_b(tenant_b, in_tenant):
    """Beta owns the fixtures' second WABA and number (the batch fixture mixes both)."""
    with in_tenant(tenant_b):
        number = PhoneNumberFactory(phone_number_id=SECOND_PHONE_ID, display_phone_number="15550783882",
                                    account__waba_id=SECOND_WABA_ID)
    route_claim(tenant=tenant_b, waba_id=SECOND_WABA_ID, phone_number_ids=[SECOND_PHONE_ID])
    return number


@pytest.fixture
def account_events(monkeypatch) -> list[dict]:
    """Records the calls webhook processing makes to the WABA app's `account_event_apply`, instead of applying them."""
    from tenants.context import connection
    from webhooks import processing

    calls: list[dict] = []

    def account_event_apply(*, waba_id: str, field: str, value: dict, occurred_at=None) -> None:
        calls.append({"waba_id": waba_id, "field": field, "value": value, "schema": connection.schema_name})

    monkeypatch.setattr(processing, "account_event_apply", account_event_apply)
    return calls


def run_committed(func, *args, **kwargs):
    """Run `func` on a connection of its own that commits (a thread of its own), and return its result.

    The test's own connection stays inside pytest-django's rolled-back transaction; what `func`
    writes is really committed, so other connections and processes see it. Clean up explicitly.
    """
    import threading

    from django.db import connections

    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = func(*args, **kwargs)
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
def committed_number(db):
    """Alpha's fixture number, app and routes COMMITTED, for tests that use several connections or
    processes (they cannot see the per-test transaction). Everything made here, and every journal
    entry, dead letter, contact and message created meanwhile, is deleted afterwards explicitly:
    no flush, so the session's tenants survive. Use it through `run_committed`."""
    from django_tenants.utils import schema_context

    from messaging.models import Contact, Message, StatusEvent, WebhookEventLogEntry
    from tenants.models import MetaApp, MetaRoute, Tenant
    from webhooks.models import WebhookDeadLetter, WebhookJournalEntry

    def last_id(queryset) -> int:
        return queryset.order_by("-id").values_list("id", flat=True).first() or 0

    def create():
        tenant = Tenant.objects.get(slug="alpha")
        marks = {"journal": last_id(WebhookJournalEntry.objects), "dead": last_id(WebhookDeadLetter.objects)}
        app = meta_app_create(app_id=APP_ID, secret=APP_SECRET, verify_token=VERIFY_TOKEN)
        route_claim(tenant=tenant, waba_id=FIXTURE_WABA_ID, phone_number_ids=[FIXTURE_PHONE_ID])
        with schema_context(tenant.schema_name):
            marks["contact"] = last_id(Contact.objects)
            marks["event_log"] = last_id(WebhookEventLogEntry.objects)
            number = PhoneNumberFactory(phone_number_id=FIXTURE_PHONE_ID, account__waba_id=FIXTURE_WABA_ID)
        return tenant, number, app, marks

    def delete(tenant, number, app, marks):
        with schema_context(tenant.schema_name):
            wamids = [w for w in Message.objects.filter(phone_number=number).values_list("wamid", flat=True) if w]
            StatusEvent.objects.filter(wamid__in=wamids).delete()
            Message.objects.filter(phone_number=number).delete()
            number.conversations.all().delete()
            Contact.objects.filter(id__gt=marks["contact"]).delete()
            WebhookEventLogEntry.objects.filter(id__gt=marks["event_log"]).delete()
            account = number.account
            number.delete()
            account.delete()
        MetaRoute.objects.filter(external_id__in=[FIXTURE_WABA_ID, FIXTURE_PHONE_ID]).delete()
        MetaApp.objects.filter(pk=app.pk).delete()
        WebhookDeadLetter.objects.filter(id__gt=marks["dead"]).delete()
        WebhookJournalEntry.objects.filter(id__gt=marks["journal"]).delete()

    tenant, number, app, marks = run_committed(create)
    try:
        yield tenant, number
    finally:
        run_committed(delete, tenant, number, app, marks)


@pytest.fixture(autouse=True)
def _fresh_inbound_throttle():
    """Every test client request comes from 127.0.0.1: no test inherits another's refusals."""
    from webhooks.throttle import inbound_throttle_reset

    inbound_throttle_reset()
    yield
    inbound_throttle_reset()
