"""The platform console on the public host: staff only; tenants created, suspended and resumed; account
health across tenants; the webhook journal's backlog, the workers and dead letters with replay."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from analytics.health import health_summary_refresh
from analytics.models import AccountHealthLog
from messaging.models import Message
from platform_core.heartbeats import WEBHOOK_WORKER, Heartbeat
from tenants.models import Tenant
from tests.conftest import host_of
from tests.console.conftest import PASSWORD, console_client
from tests.factories import AccountFactory, PhoneNumberFactory
from tests.fixtures import load_webhook_fixture_bytes
from tests.messaging.factories import FIXTURE_PHONE_ID, FIXTURE_WABA_ID, route_claim
from tests.webhooks.conftest import meta_app, process_journal, public_client, webhook  # noqa: F401
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry

PAGES = [
    "/app/tenants/",
    "/app/tenants/new/",
    "/app/tenants/alpha/",
    "/app/health/",
    "/app/webhooks/",
]


@pytest.fixture
def meta_webhook(request):
    """The webhook suite's signed poster (imported above with the fixtures it needs)."""
    return request.getfixturevalue("webhook")


def _csrf(client, path):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_for_staff_only(path, tenant_a, user_a, db):
    anonymous = console_client("localhost").get(path)
    assert anonymous.status_code == 302 and anonymous.url.startswith("/app/login/")
    plain = console_client("localhost", User.objects.create_user("plain", password=PASSWORD))
    assert plain.get(path).status_code == 302


@pytest.mark.parametrize("path", PAGES)
def test_a_tenant_users_session_is_anonymous_on_the_public_host(path, tenant_a, console_a):
    stolen = console_a.cookies["sessionid"].value
    client = console_client("localhost")
    client.cookies["sessionid"] = stolen
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith("/app/login/")


@pytest.mark.parametrize("path", PAGES)
def test_platform_pages_do_not_exist_on_a_tenant_host(path, console_a):
    assert console_a.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/app/inbox/", "/app/dashboard/", "/app/accounts/", "/app/setup/"])
def test_the_tenant_console_does_not_exist_on_the_public_host(path, platform_console):
    assert platform_console.get(path).status_code == 404


def test_the_tenant_list_shows_status_accounts_and_highlights_its_nav(platform_console, tenant_a, tenant_b):
    route_claim(tenant=tenant_a, waba_id=FIXTURE_WABA_ID, phone_number_ids=[FIXTURE_PHONE_ID])

    response = platform_console.get("/app/tenants/")

    page = _text(response)
    assert response.status_code == 200
    assert 'aria-current="page">Tenants<' in page
    row = re.search(r"<tr> <td><a href=\"/app/tenants/alpha/\">Alpha Coffee</a>.*?</tr>", page).group(0)
    assert "Active" in row and '<td class="num">1</td>' in row
    assert "Beta Solar" in page
    assert "Accounts</strong> counts the WhatsApp Business Accounts" in page


def test_creating_a_tenant_shows_the_invitation_once(platform_console, db):
    token = _csrf(platform_console, "/app/tenants/new/")
    response = platform_console.post(
        "/app/tenants/new/",
        {
            "slug": "gamma",
            "name": "Gamma Tea",
            "admin_email": "gina@gamma.test",
            "csrfmiddlewaretoken": token,
        },
    )

    page = _text(response)
    assert response.status_code == 200
    tenant = Tenant.objects.get(slug="gamma")
    assert tenant.name == "Gamma Tea" and tenant.is_active
    invitation = re.search(r'id="invitation-url">([^<]+)</code>', page).group(1)
    assert invitation.startswith(f"http://{host_of(tenant)}")
    assert "gina@gamma.test opens this link" in page
    assert "shown only once" in page
    assert invitation not in _text(platform_console.get("/app/tenants/gamma/"))
    assert "Gamma Tea" in _text(platform_console.get("/app/tenants/"))


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"slug": "Bad Slug!"}, "A slug has 1 to 40 lowercase letters"),
        ({"slug": "alpha"}, "A tenant with the slug &#x27;alpha&#x27; already exists."),
        ({"slug": "admin"}, "is reserved"),
        ({"admin_email": "not an address"}, "Enter a valid email address."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_creating_a_tenant_with_bad_input_shows_the_error(platform_console, tenant_a, fields, error):
    token = _csrf(platform_console, "/app/tenants/new/")
    data = {
        "slug": "delta",
        "name": "Delta",
        "admin_email": "d@delta.test",
        "csrfmiddlewaretoken": token,
        **fields,
    }

    response = platform_console.post("/app/tenants/new/", data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Tenant.objects.filter(slug="delta").exists()


def test_creating_a_tenant_needs_the_csrf_token(platform_console, db):
    response = platform_console.post(
        "/app/tenants/new/", {"slug": "gamma", "name": "G", "admin_email": "g@g.test"}
    )
    assert response.status_code == 403
    assert not Tenant.objects.filter(slug="gamma").exists()


def test_suspend_with_a_reason_then_resume(platform_console, tenant_a, console_a):
    token = _csrf(platform_console, "/app/tenants/alpha/")

    refused = platform_console.post(
        "/app/tenants/alpha/suspend/", {"reason": "", "csrfmiddlewaretoken": token}
    )
    assert refused.status_code == 400 and "This field is required." in refused.content.decode()
    tenant_a.refresh_from_db()
    assert tenant_a.is_active

    response = platform_console.post(
        "/app/tenants/alpha/suspend/", {"reason": "Unpaid invoice", "csrfmiddlewaretoken": token}, follow=True
    )
    page = _text(response)
    assert "Alpha Coffee is suspended." in page
    assert "Reason: <strong>Unpaid invoice</strong>" in page
    tenant_a.refresh_from_db()
    assert (tenant_a.status, tenant_a.suspended_reason) == ("suspended", "Unpaid invoice")
    suspended = console_a.get("/app/inbox/")
    assert suspended.status_code == 403 and "This workspace is suspended" in suspended.content.decode()
    assert "Unpaid invoice" in _text(platform_console.get("/app/tenants/"))

    resumed = platform_console.post("/app/tenants/alpha/resume/", {"csrfmiddlewaretoken": token}, follow=True)
    assert "Alpha Coffee is active again." in resumed.content.decode()
    tenant_a.refresh_from_db()
    assert (tenant_a.status, tenant_a.suspended_reason) == ("active", "")
    assert console_a.get("/app/inbox/").status_code == 200


def test_suspend_and_resume_are_posts_with_the_csrf_token(platform_console, tenant_a):
    assert platform_console.get("/app/tenants/alpha/suspend/").status_code == 405
    assert platform_console.post("/app/tenants/alpha/suspend/", {"reason": "x"}).status_code == 403
    tenant_a.refresh_from_db()
    assert tenant_a.is_active


def test_unknown_tenants_are_404(platform_console, db):
    token = _csrf(platform_console, "/app/tenants/")
    assert platform_console.get("/app/tenants/nobody/").status_code == 404
    assert (
        platform_console.post(
            "/app/tenants/nobody/suspend/", {"reason": "x", "csrfmiddlewaretoken": token}
        ).status_code
        == 404
    )
    assert (
        platform_console.post("/app/tenants/nobody/resume/", {"csrfmiddlewaretoken": token}).status_code
        == 404
    )
    assert platform_console.get("/app/tenants/public/").status_code == 404
    assert platform_console.get("/app/tenants/tenant-template/").status_code == 404


@pytest.fixture
def accounts(tenant_a, tenant_b, in_tenant):
    """Alpha: a healthy account; beta: an unhealthy one whose last check found problems."""
    with in_tenant(tenant_a):
        healthy = AccountFactory(display_name="Alpha Main", status="active")
        PhoneNumberFactory(account=healthy, display_phone_number="+1 555-0101", quality_rating="GREEN")
        AccountHealthLog.objects.create(account=healthy, checked_at=timezone.now(), healthy=True)
        health_summary_refresh()  # as each health check does
    with in_tenant(tenant_b):
        sick = AccountFactory(display_name="Beta Panels", status="unhealthy", status_reason="Token expired")
        PhoneNumberFactory(account=sick, display_phone_number="+1 555-0202", quality_rating="RED")
        AccountHealthLog.objects.create(account=sick, checked_at=timezone.now(), healthy=False)
        health_summary_refresh()


def test_account_health_across_tenants_lists_unhealthy_first(platform_console, accounts, tenant_a, tenant_b):
    page = _text(platform_console.get("/app/health/"))

    assert 'aria-current="page">Account health<' in page
    assert page.index(tenant_b.name) < page.index(tenant_a.name)
    assert "1 unhealthy" in page and "RED" in page and "GREEN" in page
    filtered = _text(platform_console.get("/app/health/?status=unhealthy"))
    assert tenant_b.name in filtered and tenant_a.name not in filtered


def test_a_tenants_page_shows_only_its_own_accounts_health(platform_console, accounts):
    page = _text(platform_console.get("/app/tenants/alpha/"))

    assert "Alpha Main" in page and "+1 555-0101" in page
    assert "Beta Panels" not in page


def test_the_webhook_page_explains_backlog_lag_and_workers(platform_console, db):
    now = timezone.now()
    WebhookJournalEntry.objects.create(app_id="1", body=b"{}", received_at=now - timedelta(minutes=10))
    WebhookJournalEntry.objects.create(app_id="1", body=b"{}", available_at=now + timedelta(minutes=5))
    WebhookJournalEntry.objects.create(app_id="1", body=b"{}", state=WebhookJournalEntry.State.FAILED)
    Heartbeat(WEBHOOK_WORKER).beat(force=True)

    page = _text(platform_console.get("/app/webhooks/"))

    assert 'aria-current="page">Webhooks<' in page
    assert re.search(r"Due now</div><div class=\"stat\">1</div>", page)
    assert re.search(r"Waiting to retry</div><div class=\"stat\">1</div>", page)
    assert re.search(r"Failed</div><div class=\"stat\">1</div>", page)
    # _text collapses timesince's non-breaking space
    assert 'Oldest unprocessed</div><div class="stat">10 minutes</div>' in page
    assert "How long the oldest delivery has waited" in page
    workers = re.search(r"<code>webhook_worker</code>.*?</tr>", page).group(0)
    assert '<span class="badge badge-ok">1</span>' in workers
    senders = re.search(r"<code>send_worker</code>.*?</tr>", page).group(0)
    assert '<span class="badge badge-bad">0</span>' in senders and "never" in senders
    assert "No dead letters waiting." in page


def test_failed_journal_entries_are_queued_again(platform_console, db):
    failed = WebhookJournalEntry.objects.create(
        app_id="1", body=b"{}", state=WebhookJournalEntry.State.FAILED, attempts=8
    )
    done = WebhookJournalEntry.objects.create(
        app_id="1", body=b"{}", state=WebhookJournalEntry.State.PROCESSED
    )
    token = _csrf(platform_console, "/app/webhooks/")
    assert platform_console.post("/app/webhooks/requeue-failed/").status_code == 403

    response = platform_console.post(
        "/app/webhooks/requeue-failed/", {"csrfmiddlewaretoken": token}, follow=True
    )

    assert "Queued 1 failed journal entry again." in _text(response)
    failed.refresh_from_db()
    done.refresh_from_db()
    assert (failed.state, failed.attempts) == ("pending", 0)
    assert done.state == "processed"
    again = platform_console.post(
        "/app/webhooks/requeue-failed/", {"csrfmiddlewaretoken": token}, follow=True
    )
    assert "No failed journal entries to queue again." in _text(again)


def test_a_dead_letter_is_replayed_once_its_number_is_claimed(
    platform_console, meta_webhook, tenant_a, in_tenant
):
    meta_webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()
    letter = WebhookDeadLetter.objects.get()
    page = _text(platform_console.get("/app/webhooks/"))
    assert f'href="/app/webhooks/dead-letters/{letter.pk}/">#{letter.pk}</a>' in page
    assert "No tenant owns this number or WABA" in page
    token = _csrf(platform_console, "/app/webhooks/")
    replay = f"/app/webhooks/dead-letters/{letter.pk}/replay/"

    still = platform_console.post(replay, {"csrfmiddlewaretoken": token}, follow=True)
    assert f"Dead letter #{letter.pk} is still undeliverable: No tenant owns this number or WABA." in _text(
        still
    )
    letter.refresh_from_db()
    assert letter.replay_count == 1 and letter.resolved_at is None

    with in_tenant(tenant_a):
        PhoneNumberFactory(phone_number_id=FIXTURE_PHONE_ID, account__waba_id=FIXTURE_WABA_ID)
    route_claim(tenant=tenant_a, waba_id=FIXTURE_WABA_ID, phone_number_ids=[FIXTURE_PHONE_ID])
    done = platform_console.post(replay, {"csrfmiddlewaretoken": token}, follow=True)

    assert f"Dead letter #{letter.pk} was delivered to alpha." in _text(done)
    assert "No dead letters waiting." in _text(done)
    letter.refresh_from_db()
    assert letter.resolved_tenant == tenant_a and letter.replay_count == 2
    with in_tenant(tenant_a):
        assert Message.objects.get().body == "Hi! Do you deliver on Saturdays?"


def test_a_dead_letters_page_shows_the_change_and_replays_back_to_itself(platform_console, meta_webhook):
    meta_webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()
    letter = WebhookDeadLetter.objects.get()

    page = _text(platform_console.get(f"/app/webhooks/dead-letters/{letter.pk}/"))
    assert FIXTURE_PHONE_ID in page and "Do you deliver on Saturdays?" in page
    token = _csrf(platform_console, f"/app/webhooks/dead-letters/{letter.pk}/")
    response = platform_console.post(
        f"/app/webhooks/dead-letters/{letter.pk}/replay/", {"csrfmiddlewaretoken": token, "from": "detail"}
    )
    assert response.status_code == 302 and response.url == f"/app/webhooks/dead-letters/{letter.pk}/"


def test_replay_needs_post_and_the_csrf_token_and_unknown_ids_are_404(platform_console, meta_webhook):
    meta_webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()
    letter = WebhookDeadLetter.objects.get()
    replay = f"/app/webhooks/dead-letters/{letter.pk}/replay/"

    assert platform_console.get(replay).status_code == 405
    assert platform_console.post(replay).status_code == 403
    letter.refresh_from_db()
    assert letter.replay_count == 0
    token = _csrf(platform_console, "/app/webhooks/")
    missing = letter.pk + 1000
    assert platform_console.get(f"/app/webhooks/dead-letters/{missing}/").status_code == 404
    assert (
        platform_console.post(
            f"/app/webhooks/dead-letters/{missing}/replay/", {"csrfmiddlewaretoken": token}
        ).status_code
        == 404
    )


def test_a_tenant_user_cannot_replay_from_their_host(console_a, meta_webhook):
    meta_webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()
    letter = WebhookDeadLetter.objects.get()
    token = _csrf(console_a, "/app/password/")
    response = console_a.post(
        f"/app/webhooks/dead-letters/{letter.pk}/replay/", {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 404
    letter.refresh_from_db()
    assert letter.replay_count == 0
