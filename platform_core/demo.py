"""Idempotent demo data for `make run`: a platform admin, a platform key, the `demo` tenant and its key,
and (against the Graph API simulator) the demo tenant's WhatsApp Business Account with approved templates,
its menus, a published WhatsApp Flow and a few FAQ entries, and the platform's own development Meta app
for Embedded Signup ("Connect with Facebook").

Secrets are shown once by design, so the demo keeps what it minted in
`.data/demo-credentials.json` (git-ignored, mode 0600) to print them again on the
next start. A credential that no longer works is replaced, never duplicated.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django_tenants.utils import schema_context

from automations.seeds import builtins_install
from flows_builder.models import WhatsAppFlow
from flows_builder.services import install_builtin_flows
from flows_builder.sync import flow_publish
from knowledge.models import FaqEntry
from knowledge.services import faq_entry_create, knowledge_settings_update
from messaging.models import Message
from platform_core.db import DATA_DIR
from tenants.models import Tenant
from tenants.services import TENANT_ADMIN_USERNAME, api_key_authenticate, api_key_create, tenant_create
from waba.models import MessageTemplate, WhatsAppAccount
from waba.services.accounts import webhook_callback_url
from waba.services.activation import setup_complete
from waba.services.templates import template_create, template_submit, templates_sync
from waba.services.wizard import setup_start, setup_step_save

CREDENTIALS_FILE = DATA_DIR / "demo-credentials.json"
DEMO_SLUG = "demo"
PLATFORM_ADMIN_USERNAME = "admin"


@dataclass
class DemoCredentials:
    platform_admin_username: str = PLATFORM_ADMIN_USERNAME
    platform_admin_password: str = ""
    platform_api_key: str = ""
    tenant_slug: str = DEMO_SLUG
    tenant_admin_username: str = TENANT_ADMIN_USERNAME
    tenant_admin_password: str = ""
    tenant_api_key: str = ""


def _load() -> DemoCredentials:
    try:
        stored = json.loads(CREDENTIALS_FILE.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return DemoCredentials()
    known = DemoCredentials.__dataclass_fields__
    return DemoCredentials(**{key: value for key, value in stored.items() if key in known})


def _save(credentials: DemoCredentials) -> None:
    CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
    tmp = CREDENTIALS_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(credentials), indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(CREDENTIALS_FILE)


def _ensure_superuser(username: str, password: str) -> str:
    """A superuser in the current schema whose password is `password` (a new one if empty)."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None and password and user.check_password(password):
        return password
    password = password or secrets.token_urlsafe(12)
    if user is None:
        User.objects.create_superuser(username=username, email="", password=password)
    else:
        user.set_password(password)
        user.is_staff = user.is_superuser = user.is_active = True
        user.save()
    return password


@transaction.atomic
def demo_seed() -> DemoCredentials:
    credentials = _load()
    credentials.platform_admin_password = _ensure_superuser(
        credentials.platform_admin_username, credentials.platform_admin_password
    )
    if api_key_authenticate(key=credentials.platform_api_key, tenant=None) is None:
        credentials.platform_api_key = api_key_create(
            tenant=None, name="demo platform key", created_by="make run"
        ).key

    tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
    if tenant is None:
        created = tenant_create(slug=DEMO_SLUG, name="Demo Coffee Roasters", created_by="make run")
        tenant = created.tenant
        credentials.tenant_api_key = created.api_key.key
    # The demo skips the first user's invitation: its password is set here and printed by `make run`.
    with schema_context(tenant.schema_name):
        credentials.tenant_admin_password = _ensure_superuser(
            credentials.tenant_admin_username, credentials.tenant_admin_password
        )
    if api_key_authenticate(key=credentials.tenant_api_key, tenant=tenant) is None:
        credentials.tenant_api_key = api_key_create(tenant=tenant, name="demo key", created_by="make run").key
    _save(credentials)
    return credentials


# --- the demo WhatsApp Business Account (against the Graph API simulator) ---------------------

DEMO_SIMULATOR_SEED = Path(__file__).resolve().parent / "demo_simulator_seed.json"
# What the simulator loads at each start under `make run`: the seed above plus the platform's Meta app.
DEMO_SIMULATOR_RUN_SEED = DATA_DIR / "simulator-seed.json"
# Of the built-in WhatsApp Flows, the demo installs the date picker (a pickup date) and the Starlink
# installation booking, published, so that a customer typing "starlink" gets the Flow. The solar
# booking flows stay available to every tenant (POST /api/v1/flows/install-builtins).
DEMO_FLOWS = ("date_picker", "starlink_installation")
DEMO_PUBLISHED_FLOWS = ("starlink_installation",)
# The knowledge base's entries, installed (and the knowledge base turned on) while the demo has none.
DEMO_FAQ: list[dict[str, Any]] = [
    {
        "question": "Do you ship to Hamburg?",
        "variants": ["Do you deliver?", "Do you ship to Germany?", "How long does shipping take?", "delivery"],
        "answer": "Yes: we ship anywhere in Germany, Hamburg included, within 2 working days. "
        "Orders over 30 EUR ship free.",
        "tags": ["shipping"],
    },
    {
        "question": "What are your opening hours?",
        "variants": ["When are you open?", "opening times", "Are you open on Sunday?"],
        "answer": "Our roastery café is open Monday to Saturday, 8:00 to 18:00, and closed on Sundays.",
        "tags": ["hours"],
    },
    {
        "question": "Do you have decaf coffee?",
        "variants": ["decaffeinated coffee", "coffee without caffeine"],
        "answer": "Yes: our Swiss Water decaf from Colombia, as whole beans or ground to order.",
        "tags": ["products"],
    },
    {
        "question": "Can you grind the beans for me?",
        "variants": ["ground coffee", "grind for espresso", "grind for french press"],
        "answer": "Of course: tell us how you brew (espresso, filter, French press) and we grind to suit it.",
        "tags": ["products"],
    },
]

# The platform's own Meta app under `make run` against the simulator: Embedded Signup ("Connect with
# Facebook") runs on it, and the simulator signs the webhooks of the WABAs it connects with its secret.
# Not the demo tenant's app (the seed's apps[0]): the platform's app id is reserved, no workspace can
# register it. An operator's META_APP_ID / META_APP_SECRET win over it.
DEMO_PLATFORM_APP_ID = "100000000000100"
DEMO_PLATFORM_APP_SECRET = "demo-platform-app-secret-for-the-simulator-only"
DEMO_EMBEDDED_SIGNUP_CONFIG_ID = "500000000000100"
DEMO_TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "order_confirmation",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} is confirmed. We roast it today!",
                "example": {"body_text": [["Ana", "#1042"]]},
            },
            {"type": "FOOTER", "text": "Demo Coffee Roasters"},
        ],
    },
    {
        "name": "welcome_offer",
        "language": "en_US",
        "category": "MARKETING",
        "components": [
            {
                "type": "BODY",
                "text": "Welcome {{1}}! Enjoy 10% off your first bag of beans.",
                "example": {"body_text": [["Ana"]]},
            },
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Show me the beans"}]},
        ],
    },
    {
        "name": "pickup_ready",
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your coffee is ready for pickup at the counter."}],
    },
]


@dataclass
class DemoWaba:
    account_id: int
    waba_id: str
    status: str
    set_up_now: bool
    callback_url: str
    templates: list[tuple[str, str]]  # (name, status)


def demo_simulator_seed() -> dict:
    """The simulator's seed document for the demo: its app, WABA, number and token."""
    return json.loads(DEMO_SIMULATOR_SEED.read_text())


def demo_platform_app_settings() -> dict[str, str]:
    """The settings (and environment variables, same names) that give the platform the development
    Meta app, for `make run` against the simulator only; empty when the operator set an app of their own."""
    if settings.META_APP_ID or settings.META_APP_SECRET:
        return {}
    values = {"META_APP_ID": DEMO_PLATFORM_APP_ID, "META_APP_SECRET": DEMO_PLATFORM_APP_SECRET}
    if not settings.META_EMBEDDED_SIGNUP_CONFIG_ID:
        values["META_EMBEDDED_SIGNUP_CONFIG_ID"] = DEMO_EMBEDDED_SIGNUP_CONFIG_ID
    return values


def demo_simulator_run_seed() -> dict:
    """The demo's seed plus the platform's Meta app as the settings have it (when both its id and secret
    are set), so that the simulator redeems Embedded Signup codes for it."""
    seed = demo_simulator_seed()
    if settings.META_APP_ID and settings.META_APP_SECRET:
        seed["apps"].append(
            {"app_id": settings.META_APP_ID, "app_secret": settings.META_APP_SECRET, "name": "the platform (dev app)"}
        )
    return seed


def demo_simulator_run_seed_write() -> Path:
    """Write `demo_simulator_run_seed()` where `make run`'s simulator loads it (git-ignored, mode 0600:
    it holds the app secrets)."""
    DEMO_SIMULATOR_RUN_SEED.parent.mkdir(parents=True, exist_ok=True)
    tmp = DEMO_SIMULATOR_RUN_SEED.with_suffix(".tmp")
    tmp.write_text(json.dumps(demo_simulator_run_seed(), indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(DEMO_SIMULATOR_RUN_SEED)
    return DEMO_SIMULATOR_RUN_SEED


def demo_wizard_steps(seed: dict) -> dict[str, dict]:
    """The six wizard steps' input for the demo, taken from the simulator's seed."""
    app, waba, token = seed["apps"][0], seed["wabas"][0], seed["tokens"][0]
    phone = waba["phone_numbers"][0]
    return {
        "business-account": {
            "display_name": waba["name"],
            "waba_id": waba["id"],
            "business_account_id": waba["business_id"],
            "app_id": app["app_id"],
            "app_secret": app["app_secret"],
        },
        "access-tokens": {"access_token": token["token"]},
        "phone-number": {"phone_number_id": phone["id"], "phone_number": phone["display_phone_number"]},
        "business-profile": {
            "profile_name": waba["name"],
            "profile_description": "Small-batch coffee, roasted daily.",
            "profile_vertical": "RETAIL",
            "profile_website": "https://demo-coffee.example",
        },
        "bot-configuration": {
            "auto_reply_enabled": True,
            "greeting_message": "Hi! Welcome to Demo Coffee Roasters.",
            "fallback_message": "Sorry, I did not get that. Type 'menu' to see what I can do.",
            "business_hours_start": "08:00",
            "business_hours_end": "18:00",
            "timezone": "Europe/Berlin",
        },
        "webhook-configuration": {},
    }


def demo_waba_ensure(*, review_wait_s: float = 10.0) -> DemoWaba:
    """Set up the demo tenant's WABA through the wizard services, against the Graph API the
    settings point at (the simulator started with `demo_simulator_seed.json`), and make sure the
    demo templates exist there and are approved. Idempotent: an active account is left as it is;
    templates a restarted simulator forgot are submitted again.
    """

    seed = demo_simulator_seed()
    steps = demo_wizard_steps(seed)
    tenant = Tenant.objects.get(slug=DEMO_SLUG)
    with schema_context(tenant.schema_name):
        waba_id = steps["business-account"]["waba_id"]
        account = WhatsAppAccount.objects.filter(waba_id=waba_id).first()
        set_up_now = account is None or account.status == WhatsAppAccount.Status.DRAFT
        if set_up_now:
            account = account or setup_start(display_name=steps["business-account"]["display_name"])
            for step, data in steps.items():
                setup_step_save(account=account, step=step, data=data)
            setup_complete(account=account)
        assert account is not None  # an account that is not DRAFT exists
        templates = _demo_templates_ensure(account=account, review_wait_s=review_wait_s)
        _demo_automations_ensure(account=account)
        return DemoWaba(
            account_id=account.pk,
            waba_id=account.waba_id,
            status=account.status,
            set_up_now=set_up_now,
            callback_url=webhook_callback_url(app_id=account.app_id),
            templates=templates,
        )


def _demo_automations_ensure(*, account: WhatsAppAccount) -> None:
    """The built-in menus (coffee ordering, tracking, support) and catalogue, the demo's WhatsApp Flows
    (those a keyword sends published at Meta), and the FAQ entries with the knowledge base on while the
    demo has none (a tenant's own edits are kept). Idempotent."""

    builtins_install(changed_by="make run")
    install_builtin_flows(account, names=DEMO_FLOWS)
    for flow in WhatsAppFlow.objects.filter(account=account, name__in=DEMO_PUBLISHED_FLOWS):
        if not flow.is_immutable_at_meta:  # a draft or never synced; one the tenant deprecated stays so
            flow_publish(flow=flow)
    if not FaqEntry.objects.exists():
        for entry in DEMO_FAQ:
            faq_entry_create(**entry)
        knowledge_settings_update(enabled=True)


def _demo_templates_ensure(*, account: WhatsAppAccount, review_wait_s: float) -> list[tuple[str, str]]:
    """Create (or resubmit) the demo templates, then sync until Meta has reviewed them."""

    templates_sync(account=account)  # a restarted simulator has none: they come back as DELETED
    for definition in DEMO_TEMPLATES:
        existing = MessageTemplate.objects.filter(
            account=account, name=definition["name"], language=definition["language"]
        ).first()
        if existing is None:
            template_create(account=account, data=definition)
        elif existing.status in ("DRAFT", "DELETED"):
            template_submit(template=existing)
    names = [definition["name"] for definition in DEMO_TEMPLATES]
    deadline = time.monotonic() + review_wait_s
    while True:
        templates_sync(account=account)
        rows = list(MessageTemplate.objects.filter(account=account, name__in=names).order_by("name"))
        if all(row.status != "PENDING" for row in rows) or time.monotonic() > deadline:
            return [(row.name, row.status) for row in rows]
        time.sleep(0.5)


# Customers who write to the demo number on first start, so that the console's inbox opens on real
# conversations: each message goes through the simulator, Meta's signed webhook and the workers,
# and the bot answers as it would answer anyone.
DEMO_CUSTOMERS: list[dict[str, Any]] = [
    {"from": "4915112345001", "profile_name": "Maria Schmidt", "type": "text", "text": {"body": "Hi"}},
    {"from": "4915112345002", "profile_name": "Tom Becker", "type": "text", "text": {"body": "menu"}},
    {
        "from": "4915112345003",
        "profile_name": "Aisha Khan",
        "type": "text",
        "text": {"body": "Hello! Do you ship to Hamburg?"},
    },
    {
        "from": "4915112345003",
        "profile_name": "Aisha Khan",
        "type": "text",
        "text": {"body": "I'd like to talk to a person please"},
    },
    {"from": "4915112345004", "profile_name": "Ken Ito", "type": "text", "text": {"body": "agent"}},
    {
        "from": "4915112345004",
        "profile_name": "Ken Ito",
        "type": "location",
        "location": {"latitude": 52.5208, "longitude": 13.4094, "name": "Alexanderplatz", "address": "Berlin"},
    },
]


def demo_conversations_ensure(*, simulator_url: str, phone_number_id: str) -> int:
    """Have the demo customers write once: nothing is injected when the demo tenant has any inbound
    message already. Returns how many messages were injected."""
    tenant = Tenant.objects.get(slug=DEMO_SLUG)
    with schema_context(tenant.schema_name):
        if Message.objects.filter(direction=Message.Direction.INBOUND).exists():
            return 0
    for message in DEMO_CUSTOMERS:
        httpx.post(
            f"{simulator_url}/_sim/inject/message",
            json={"phone_number_id": phone_number_id, **message},
            timeout=5,
        ).raise_for_status()
        time.sleep(0.3)  # in order, as people type
    return len(DEMO_CUSTOMERS)
