"""The setup wizard driven end to end through the tenant API against the Graph API simulator
(a real HTTP server on loopback): what is stored, what Meta was asked, what a failure leaves.
"""

from __future__ import annotations

import json
import logging

from tenants.models import MetaApp, MetaRoute
from tests.waba.conftest import (
    APP_ID,
    APP_SECRET,
    DEAD_TOKEN,
    OTHER_PHONE_ID,
    OTHER_TOKEN,
    OTHER_WABA_ID,
    PHONE_E164,
    PHONE_ID,
    STEP_KEYS,
    TOKEN,
    VERIFY_TOKEN,
    WABA_ID,
    sim_fault,
    wizard_run,
)
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount


def _graph_calls(sim, since: int = 0) -> list[tuple[str, str | None, str | None]]:
    """What the platform asked Meta, in order; the pages of one listing count once."""
    calls: list[tuple[str, str | None, str | None]] = []
    for request in sim.requests()[since:]:
        call = (request["method"], request["object_id"], request["edge"])
        if not (calls and calls[-1] == call and "after" in request["query"]):
            calls.append(call)
    return calls


def _nothing_half_made(tenant, in_tenant, *, accounts: int = 0) -> None:
    assert not MetaRoute.objects.filter(tenant=tenant).exists()
    assert not MetaApp.objects.filter(tenant=tenant).exists()
    with in_tenant(tenant):
        assert WhatsAppAccount.objects.count() == accounts
        assert not WhatsAppAccount.objects.exclude(status=WhatsAppAccount.Status.DRAFT).exists()


def test_a_valid_run_activates_the_account_claims_its_ids_and_subscribes_the_app(
    sim, api_a, step_data, tenant_a, in_tenant
):
    account_id, response = wizard_run(api_a, step_data, complete=False)
    assert response.json()["ready_to_complete"] is True
    calls_before_complete = len(sim.requests())

    response = api_a.post_json(f"/api/v1/setup/{account_id}/complete")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["webhook"]["callback_url"] == f"http://localhost:8000/webhooks/whatsapp/{APP_ID}"
    assert body["webhook"]["verify_token"] == VERIFY_TOKEN
    assert body["account"]["status"] == "active"
    assert body["account"]["phone_numbers"][0]["verified_name"] == "Alpha Coffee"  # from Meta
    assert body["account"]["phone_numbers"][0]["e164_number"] == PHONE_E164

    completion_calls = sim.requests()[calls_before_complete:]
    assert _graph_calls(sim, since=calls_before_complete) == [
        ("GET", "debug_token", None),
        ("GET", WABA_ID, "phone_numbers"),
        ("POST", WABA_ID, "subscribed_apps"),
        ("GET", WABA_ID, "message_templates"),  # once live: the WABA's templates are imported
        ("POST", PHONE_ID, "whatsapp_business_profile"),  # the profile from step 4 goes to Meta
        ("GET", PHONE_ID, "whatsapp_business_profile"),  # and is read back
    ]
    assert {r["authorization"] for r in completion_calls} == {"Bearer …" + TOKEN[-4:]}
    assert body["templates"] == {
        "imported": True,
        "counts": {"total": 0, "created": 0, "updated": 0, "unchanged": 0, "deleted": 0},
        "error": None,
    }
    subscribed = sim.state.snapshot()["wabas"][0]["subscribed_apps"]
    assert [s["app_id"] for s in subscribed] == [APP_ID]

    routes = set(MetaRoute.objects.filter(tenant=tenant_a).values_list("kind", "external_id"))
    assert routes == {("waba", WABA_ID), ("phone_number", PHONE_ID)}
    app = MetaApp.objects.get(app_id=APP_ID)
    assert app.tenant_id == tenant_a.id and app.verify_token.reveal() == VERIFY_TOKEN
    assert app.app_secret.reveal() == APP_SECRET
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get(pk=account_id)
        assert account.status == "active" and account.activated_at is not None
        assert account.access_token.reveal() == TOKEN
        assert account.setup_completed_steps == [1, 2, 3, 4, 5, 6]
        assert str(account.business_hours_start) == "09:00:00" and account.timezone == "Europe/Berlin"


def test_each_step_checks_with_meta_when_it_can(sim, api_a, step_data):
    account_id = api_a.post_json("/api/v1/setup", {}).json()["account_id"]
    api_a.put_json(f"/api/v1/setup/{account_id}/steps/business-account", step_data["business_account"])
    assert _graph_calls(sim) == []  # no token yet: nothing to ask

    api_a.put_json(f"/api/v1/setup/{account_id}/steps/access-tokens", step_data["access_tokens"])
    assert _graph_calls(sim) == [("GET", "debug_token", None)]

    response = api_a.put_json(f"/api/v1/setup/{account_id}/steps/phone-number", step_data["phone_number"])
    assert response.status_code == 200
    assert _graph_calls(sim)[-1] == ("GET", WABA_ID, "phone_numbers")


def test_an_invalid_token_fails_at_its_step_with_metas_reason_and_without_the_token(
    sim, api_a, step_data, tenant_a, in_tenant
):
    account_id = api_a.post_json("/api/v1/setup", {}).json()["account_id"]
    api_a.put_json(f"/api/v1/setup/{account_id}/steps/1", step_data["business_account"])

    response = api_a.put_json(f"/api/v1/setup/{account_id}/steps/3", {"access_token": DEAD_TOKEN})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "token_invalid"
    assert "invalidated" in error["message"]
    assert error["details"][0]["field"] == "access_token" and error["details"][0]["meta_code"] == 190
    assert DEAD_TOKEN not in response.content.decode()
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get(pk=account_id)
        assert account.access_token is None and account.setup_completed_steps == [1]


def test_a_token_that_stopped_working_fails_completion_and_leaves_nothing_half_made(
    sim, api_a, step_data, tenant_a, in_tenant
):
    account_id, _ = wizard_run(api_a, step_data, complete=False)
    sim.seed({"tokens": [{"token": TOKEN, "valid": False}]})  # revoked in Meta since step 3

    response = api_a.post_json(f"/api/v1/setup/{account_id}/complete")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "token_invalid"
    assert TOKEN not in response.content.decode()
    _nothing_half_made(tenant_a, in_tenant, accounts=1)
    assert ("POST", WABA_ID, "subscribed_apps") not in _graph_calls(sim)


def test_a_number_of_another_waba_is_refused_clearly(sim, api_a, step_data, tenant_a, in_tenant):
    account_id = api_a.post_json("/api/v1/setup", {}).json()["account_id"]
    api_a.put_json(f"/api/v1/setup/{account_id}/steps/1", step_data["business_account"])
    api_a.put_json(f"/api/v1/setup/{account_id}/steps/3", step_data["access_tokens"])

    response = api_a.put_json(
        f"/api/v1/setup/{account_id}/steps/2", {"phone_number_id": OTHER_PHONE_ID, "phone_number": "+15550100002"}
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "phone_number_not_in_waba"
    assert OTHER_PHONE_ID in error["message"] and WABA_ID in error["message"]
    assert error["details"] == [
        {"field": "phone_number_id", "message": f"not a number of WABA {WABA_ID}", "type": "phone_number_not_in_waba"}
    ]
    with in_tenant(tenant_a):
        assert not PhoneNumber.objects.exists()


def test_one_shot_setup_with_a_number_of_another_waba_leaves_nothing(sim, api_a, step_data, tenant_a, in_tenant):
    step_data["phone_number"] = {"phone_number_id": OTHER_PHONE_ID, "phone_number": "+15550100002"}

    response = api_a.post_json("/api/v1/accounts/setup", step_data)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "phone_number_not_in_waba"
    _nothing_half_made(tenant_a, in_tenant, accounts=0)
    with in_tenant(tenant_a):
        assert not PhoneNumber.objects.exists()


def test_a_waba_claimed_by_another_tenant_is_409_and_leaves_nothing(
    sim, api_a, api_b, step_data, tenant_a, tenant_b, in_tenant
):
    account_id, _ = wizard_run(api_a, step_data, complete=False)  # alpha is ready to go live...
    claimed = api_b.post_json("/api/v1/accounts/setup", step_data)  # ...but beta goes live first
    assert claimed.status_code == 201, claimed.content

    response = api_a.post_json(f"/api/v1/setup/{account_id}/complete")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "already_claimed"
    assert error["details"] == {"kind": "waba", "external_id": WABA_ID}
    _nothing_half_made(tenant_a, in_tenant, accounts=1)
    assert MetaRoute.objects.get(kind="waba", external_id=WABA_ID).tenant_id == tenant_b.id


def test_one_shot_setup_of_a_waba_claimed_by_another_tenant_is_409_and_leaves_nothing(
    sim, api_a, api_b, step_data, tenant_a, in_tenant
):
    assert api_b.post_json("/api/v1/accounts/setup", step_data).status_code == 201

    response = api_a.post_json("/api/v1/accounts/setup", step_data)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_claimed"
    _nothing_half_made(tenant_a, in_tenant, accounts=0)


def test_a_meta_app_registered_by_another_tenant_is_409(sim, api_a, api_b, step_data, tenant_a, in_tenant):
    assert api_b.post_json("/api/v1/accounts/setup", step_data).status_code == 201
    step_data["business_account"]["waba_id"] = OTHER_WABA_ID
    step_data["phone_number"] = {"phone_number_id": OTHER_PHONE_ID, "phone_number": "+15550100002"}
    step_data["access_tokens"]["access_token"] = OTHER_TOKEN

    response = api_a.post_json("/api/v1/accounts/setup", step_data)

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"kind": "meta_app", "external_id": APP_ID}
    _nothing_half_made(tenant_a, in_tenant, accounts=0)


def test_meta_refusing_the_subscription_rolls_everything_back(sim, api_a, step_data, tenant_a, in_tenant):
    account_id, _ = wizard_run(api_a, step_data, complete=False)
    sim_fault(sim, path_contains="subscribed_apps", method="POST", status=500, error_code=131000)

    response = api_a.post_json(f"/api/v1/setup/{account_id}/complete")

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "meta_unavailable" and error["details"]["retryable"] is True
    assert response["Retry-After"]
    _nothing_half_made(tenant_a, in_tenant, accounts=1)


def test_steps_are_saved_in_any_order_corrected_and_never_lose_other_steps(sim, api_a, step_data, tenant_a, in_tenant):
    account_id = api_a.post_json("/api/v1/setup", {"display_name": "Draft"}).json()["account_id"]
    for number in (6, 4, 1, 5, 3, 2):
        response = api_a.put_json(f"/api/v1/setup/{account_id}/steps/{number}", step_data[STEP_KEYS[number - 1]])
        assert response.status_code == 200, (number, response.content)

    # Correct step 4 and step 1's name alone: the secrets and other fields stay.
    response = api_a.put_json(f"/api/v1/setup/{account_id}/steps/business-profile", {"profile_name": "Alpha Roasters"})
    assert response.status_code == 200
    response = api_a.put_json(f"/api/v1/setup/{account_id}/steps/1", {"display_name": "Alpha Roasters"})
    assert response.status_code == 200

    progress = api_a.get(f"/api/v1/setup/{account_id}").json()
    assert progress["completed_steps"] == [1, 2, 3, 4, 5, 6] and progress["ready_to_complete"] is True
    step1, step3, step4 = progress["steps"][0], progress["steps"][2], progress["steps"][3]
    assert step1["values"]["app_secret"] == {"set": True, "last4": APP_SECRET[-4:]}
    assert step1["values"]["display_name"] == "Alpha Roasters"
    assert step3["values"]["access_token"] == {"set": True, "last4": TOKEN[-4:]}
    assert step4["values"]["profile_email"] == "hello@alpha.example"
    assert step4["values"]["profile_name"] == "Alpha Roasters"
    assert progress["steps"][4]["values"]["business_hours_start"] == "09:00"
    assert api_a.post_json(f"/api/v1/setup/{account_id}/complete").status_code == 200


def test_progress_lists_the_missing_fields_and_complete_refuses_an_unfinished_wizard(sim, api_a, step_data):
    account_id = api_a.post_json("/api/v1/setup", {}).json()["account_id"]
    api_a.put_json(f"/api/v1/setup/{account_id}/steps/1", step_data["business_account"])

    progress = api_a.get(f"/api/v1/setup/{account_id}").json()
    assert progress["next_step"] == 2
    assert progress["steps"][1]["missing_fields"] == ["phone_number_id", "phone_number"]

    response = api_a.post_json(f"/api/v1/setup/{account_id}/complete")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "setup_incomplete"
    assert [item["step"] for item in error["details"]] == [2, 3, 4, 5, 6]
    assert _graph_calls(sim) == []


def test_step_fields_are_validated_one_by_one_and_nothing_is_saved(api_a, tenant_a, in_tenant):
    account_id = api_a.post_json("/api/v1/setup", {}).json()["account_id"]

    response = api_a.put_json(
        f"/api/v1/setup/{account_id}/steps/business-account",
        {"waba_id": "WABA-1", "app_id": "", "app_secret": "short", "display_name": "A", "colour": "red"},
    )

    assert response.status_code == 422
    fields = {item["field"]: item["type"] for item in response.json()["error"]["details"]}
    assert fields == {
        "waba_id": "value_error",
        "app_id": "value_error",
        "app_secret": "value_error",
        "colour": "extra_forbidden",
        "business_account_id": "missing",
    }
    response = api_a.put_json(f"/api/v1/setup/{account_id}/steps/bot-configuration", {"business_hours_start": "09:00", "timezone": "Mars/Olympus"})
    details = {item["field"]: item["message"] for item in response.json()["error"]["details"]}
    assert set(details) == {"timezone"}
    response = api_a.put_json(f"/api/v1/setup/{account_id}/steps/bot-configuration", {"business_hours_start": "09:00", "auto_reply_enabled": True})
    assert {item["field"] for item in response.json()["error"]["details"]} == {"business_hours_end", "fallback_message"}
    response = api_a.put_json(f"/api/v1/setup/{account_id}/steps/6", {"subscribed_fields": ["statuses"]})
    assert response.json()["error"]["details"][0]["field"] == "subscribed_fields"
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get(pk=account_id)
        assert account.setup_completed_steps == [] and account.waba_id == ""


def test_one_shot_setup_reports_every_steps_errors_at_once(api_a, step_data, tenant_a, in_tenant):
    step_data["business_account"]["waba_id"] = "not-digits"
    step_data["phone_number"] = {"phone_number": "12"}
    del step_data["business_profile"]
    step_data["extras"] = {}

    response = api_a.post_json("/api/v1/accounts/setup", step_data)

    assert response.status_code == 422
    fields = {item["field"] for item in response.json()["error"]["details"]}
    assert fields == {
        "extras",
        "business_account.waba_id",
        "phone_number.phone_number",
        "phone_number.phone_number_id",
        "business_profile.profile_name",
    }
    with in_tenant(tenant_a):
        assert not WhatsAppAccount.objects.exists()


def test_one_shot_setup_goes_live_like_the_wizard(sim, api_a, step_data, tenant_a, in_tenant):
    response = api_a.post_json("/api/v1/accounts/setup", step_data)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["account"]["status"] == "active"
    assert body["webhook"]["verify_token"] == VERIFY_TOKEN
    assert ("POST", WABA_ID, "subscribed_apps") in _graph_calls(sim)
    assert MetaRoute.objects.filter(tenant=tenant_a).count() == 2


def test_completing_again_is_harmless_and_answers_the_same_webhook_settings(live_account, sim, api_a, tenant_a):
    again = api_a.post_json(f"/api/v1/setup/{live_account.pk}/complete")

    assert again.status_code == 200
    assert again.json()["webhook"]["verify_token"] == VERIFY_TOKEN
    assert MetaRoute.objects.filter(tenant=tenant_a).count() == 2


def test_a_live_account_cannot_move_to_another_waba_or_number(live_account, api_a):
    response = api_a.put_json(f"/api/v1/setup/{live_account.pk}/steps/1", {"waba_id": OTHER_WABA_ID})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "identity_locked"

    response = api_a.put_json(f"/api/v1/setup/{live_account.pk}/steps/2", {"phone_number_id": OTHER_PHONE_ID})
    assert response.status_code == 409

    # Everything else can be corrected on a live account.
    response = api_a.put_json(f"/api/v1/setup/{live_account.pk}/steps/4", {"profile_description": "Fresh beans"})
    assert response.status_code == 200


def test_a_new_token_heals_an_account_marked_unhealthy_by_a_dead_token(live_account, sim, api_a, tenant_a, in_tenant):
    from waba.services.accounts import account_mark_unhealthy

    with in_tenant(tenant_a):
        account_mark_unhealthy(account=live_account, reason="Meta: token expired", code=190)
    sim.seed({"tokens": [{"token": "EAAGfreshTokenAlpha0123456789", "app_id": APP_ID, "waba_ids": [WABA_ID]}]})

    response = api_a.put_json(f"/api/v1/setup/{live_account.pk}/steps/3", {"access_token": "EAAGfreshTokenAlpha0123456789"})

    assert response.status_code == 200
    assert response.json()["status"] == "active"


def test_secrets_never_reach_responses_logs_or_the_database_in_clear(sim, api_a, step_data, tenant_a, in_tenant, caplog):
    caplog.set_level(logging.DEBUG)
    account_id, response = wizard_run(api_a, step_data)
    bodies = [response.content.decode()]
    for path in (f"/api/v1/setup/{account_id}", "/api/v1/accounts", f"/api/v1/accounts/{account_id}"):
        bodies.append(api_a.get(path).content.decode())
    bad = api_a.put_json(f"/api/v1/setup/{account_id}/steps/3", {"access_token": DEAD_TOKEN})
    bodies.append(bad.content.decode())

    for secret in (TOKEN, APP_SECRET, DEAD_TOKEN):
        assert all(secret not in body for body in bodies), secret
        assert secret not in caplog.text, secret
    with in_tenant(tenant_a):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT access_token, app_secret FROM waba_whatsappaccount WHERE id = %s", [account_id])
            stored_token, stored_secret = cursor.fetchone()
    assert stored_token.startswith("gAAAAA") and TOKEN not in stored_token
    assert stored_secret.startswith("gAAAAA") and APP_SECRET not in stored_secret
    account_json = json.loads(bodies[3])
    assert account_json["access_token"] == {"set": True, "last4": TOKEN[-4:]}


def test_another_tenants_wizard_is_invisible(live_account, api_b, step_data):
    for method, path, body in (
        ("get", f"/api/v1/setup/{live_account.pk}", None),
        ("put_json", f"/api/v1/setup/{live_account.pk}/steps/4", {"profile_name": "Hijacked"}),
        ("post_json", f"/api/v1/setup/{live_account.pk}/complete", {}),
    ):
        response = getattr(api_b, method)(path, body) if body is not None else getattr(api_b, method)(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


# --- the platform's own Meta app is reserved ----------------------------------------------------


def test_the_wizard_refuses_the_platform_app_id_naming_the_field(sim, api_a, step_data, tenant_a, in_tenant, settings):
    settings.META_APP_ID = APP_ID
    settings.META_APP_SECRET = "platform-secret-from-settings-0001"
    account_id = api_a.post_json("/api/v1/setup", {}).json()["account_id"]

    response = api_a.put_json(f"/api/v1/setup/{account_id}/steps/1", step_data["business_account"])

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [(d["field"], d["type"]) for d in error["details"]] == [("app_id", "app_id_reserved")]
    assert "platform-secret" not in response.content.decode()
    assert not MetaApp.objects.filter(app_id=APP_ID).exists()


def test_one_shot_setup_with_the_platform_app_id_is_422_and_leaves_nothing(sim, api_a, step_data, tenant_a, in_tenant, settings):
    settings.META_APP_ID = APP_ID

    response = api_a.post_json("/api/v1/accounts/setup", step_data)

    assert response.status_code == 422
    assert [(d["field"], d["type"]) for d in response.json()["error"]["details"]] == [
        ("business_account.app_id", "app_id_reserved")
    ]
    assert not MetaApp.objects.filter(app_id=APP_ID).exists()
    _nothing_half_made(tenant_a, in_tenant, accounts=0)


def test_going_live_with_the_platform_app_id_saved_earlier_is_refused(sim, api_a, step_data, tenant_a, in_tenant, settings):
    account_id, _ = wizard_run(api_a, step_data, complete=False)
    settings.META_APP_ID = APP_ID  # the platform app was configured after the step was saved

    response = api_a.post_json(f"/api/v1/setup/{account_id}/complete")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "app_id_reserved"
    assert error["details"] == [{"field": "app_id", "message": error["details"][0]["message"], "type": "app_id_reserved"}]
    assert not MetaApp.objects.filter(app_id=APP_ID).exists()
    _nothing_half_made(tenant_a, in_tenant, accounts=1)


# --- the WABA's existing templates ---------------------------------------------------------------

EXISTING_TEMPLATES = [
    {"waba_id": WABA_ID, "name": "order_ready", "language": "en_US", "category": "UTILITY",
     "body": "Hi {{1}}, order {{2}} is ready."},
    {"waba_id": WABA_ID, "name": "order_ready", "language": "de_DE", "category": "UTILITY", "status": "PENDING",
     "body": "Hallo {{1}}, Bestellung {{2}} ist fertig."},
    {"waba_id": WABA_ID, "name": "spring_sale", "language": "en_US", "category": "MARKETING", "status": "REJECTED",
     "body": "Everything half price!"},
]


def test_completion_imports_the_wabas_templates_so_approved_ones_can_be_sent_at_once(
    sim, api_a, step_data, tenant_a, in_tenant
):
    sim.seed({"templates": EXISTING_TEMPLATES})

    account_id, response = wizard_run(api_a, step_data)

    assert response.status_code == 200, response.content
    assert response.json()["templates"] == {
        "imported": True,
        "counts": {"total": 3, "created": 3, "updated": 0, "unchanged": 0, "deleted": 0},
        "error": None,
    }
    with in_tenant(tenant_a):
        stored = {(t.name, t.language): t for t in MessageTemplate.objects.filter(account_id=account_id)}
    assert {key: (t.status, t.category) for key, t in stored.items()} == {
        ("order_ready", "en_US"): ("APPROVED", "UTILITY"),
        ("order_ready", "de_DE"): ("PENDING", "UTILITY"),
        ("spring_sale", "en_US"): ("REJECTED", "MARKETING"),
    }
    assert stored[("order_ready", "en_US")].variable_count == 2
    assert stored[("order_ready", "en_US")].meta_template_id in {t["id"] for t in sim.state.snapshot()["templates"]}

    sent = api_a.post_json("/api/v1/messages", {
        "phone_number_id": PHONE_ID, "to": "+49 151 12345678", "type": "template",
        "template": {"name": "order_ready", "language": "en_US", "body_parameters": ["Ada", "A-17"]},
    })
    assert sent.status_code == 202, sent.content


def test_one_shot_setup_imports_the_templates_too(sim, api_a, step_data, tenant_a, in_tenant):
    sim.seed({"templates": EXISTING_TEMPLATES[:1]})

    response = api_a.post_json("/api/v1/accounts/setup", step_data)

    assert response.status_code == 201, response.content
    assert response.json()["templates"]["counts"]["created"] == 1
    with in_tenant(tenant_a):
        assert list(MessageTemplate.objects.values_list("name", "status")) == [("order_ready", "APPROVED")]


def test_a_failed_template_import_leaves_the_account_live_says_why_and_the_schedule_imports_later(
    sim, api_a, step_data, tenant_a, in_tenant, caplog, sync_jobs
):
    from waba.tasks import live_accounts_sync_fan_out

    sim.seed({"templates": EXISTING_TEMPLATES})
    account_id, _ = wizard_run(api_a, step_data, complete=False)
    sim_fault(sim, path_contains="message_templates", method="GET", status=500, error_code=131000)

    with caplog.at_level(logging.WARNING, logger="waba.services.activation"):
        response = api_a.post_json(f"/api/v1/setup/{account_id}/complete")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["account"]["status"] == "active"
    assert body["templates"]["imported"] is False and body["templates"]["counts"] == {}
    assert body["templates"]["error"]["code"] == "meta_unavailable"
    assert "list the templates" in body["templates"]["error"]["message"]
    [warning] = [r for r in caplog.records if r.name == "waba.services.activation"]
    assert f"account {account_id}" in warning.getMessage() and "meta_unavailable" in warning.getMessage()
    assert "platform:waba-sync" in warning.getMessage()
    assert MetaRoute.objects.filter(tenant=tenant_a).count() == 2
    with in_tenant(tenant_a):
        assert not MessageTemplate.objects.exists()

    sim.simulator.faults.clear()  # Meta answers again
    live_accounts_sync_fan_out()  # what the schedule platform:waba-sync runs

    with in_tenant(tenant_a):
        assert MessageTemplate.objects.filter(account_id=account_id).count() == 3
        assert MessageTemplate.objects.get(name="order_ready", language="en_US").status == "APPROVED"
