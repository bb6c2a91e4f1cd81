"""The console in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
driven by Selenium, against a live server with the webhook and send workers running.

Test modules are marked `browser` and `django_db`: the test's own connection sits in a rolled-back
transaction as everywhere else (it still reads what others commit), so rows a test must show to the
live server are written through `committed()`, on a connection of its own. The pages run on other
connections than the test's, so everything here is committed: a workspace
of its own (`browser`), created for this package and dropped after it, with a sandbox WhatsApp
account in the Graph API simulator whose webhooks come back to the live server. Without the
browser the tests are skipped, unless REQUIRE_BROWSER_TESTS is set (CI), which fails them instead.
Screenshots of each step go to `test-screenshots/` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test import override_settings
from django.test.testcases import LiveServerThread
from django_tenants.utils import schema_context

from tenants.models import Tenant

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(settings.BASE_DIR) / "test-screenshots"
SLUG = "browser"
USERNAME = "lena"
PASSWORD = "browser tests passphrase 7"


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) and os.access(path, os.X_OK)):
            return f"{path} is missing: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    return None


@dataclass
class Site:
    """The live server and the committed workspace the browser tests use."""

    url: str  # the public host, e.g. http://localhost:41234
    port: int
    tenant: Tenant
    simulator_url: str
    phone_number_id: str
    account_id: int

    def tenant_url(self, path: str = "/") -> str:
        return f"http://{SLUG}.localhost:{self.port}{path}"


class _Workers:
    """The webhook worker and a send worker for the browser's workspace, as threads of this process."""

    def __init__(self, schema: str) -> None:
        from sending.worker import SendWorker

        self._stop = threading.Event()
        self.send_worker = SendWorker(threads=2, name="browser-send")
        self._threads = [
            threading.Thread(target=self._webhooks, name="browser-webhooks", daemon=True),
            threading.Thread(target=self._send, args=(schema,), name="browser-send", daemon=True),
        ]

    def _webhooks(self) -> None:
        from webhooks.tasks import webhook_worker_run

        try:
            webhook_worker_run(should_stop=self._stop.is_set, idle_sleep_s=0.1)
        finally:
            connections.close_all()

    def _send(self, schema: str) -> None:
        try:
            self.send_worker.run(schemas=[schema])
        finally:
            connections.close_all()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.send_worker.stop()
        for thread in self._threads:
            thread.join(timeout=15)


# Public tables the package leaves alone: the tenants (the workspace is dropped on its own) and
# Django's catalogue of models and permissions.
_KEEP_PUBLIC = {"tenants.tenant", "tenants.domain", "contenttypes.contenttype", "auth.permission"}


def _public_models() -> list:
    from django.apps import apps
    from django.conf import settings as django_settings

    shared = {config.label for config in apps.get_app_configs() if config.name in django_settings.SHARED_APPS}
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in shared
        and model._meta.label_lower not in _KEEP_PUBLIC
        and not model._meta.proxy
        and model._meta.managed
    ]


def _public_rows_mark() -> dict:
    """What the public tables hold before the package: the highest integer key, or every key."""
    marks = {}
    for model in _public_models():
        if model._meta.pk.get_internal_type() in {"AutoField", "BigAutoField", "IntegerField", "BigIntegerField"}:
            marks[model] = ("max", model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
        else:
            marks[model] = ("keys", set(model.objects.values_list("pk", flat=True)))
    return marks


def _public_rows_forget(marks: dict) -> None:
    """Delete the public rows the live server, the workers and the tests committed (journal entries,
    Meta apps and routes, login attempts, sessions, heartbeats, queued jobs...), so that the rest of
    the suite finds the public schema as it was."""
    for model, (kind, mark) in marks.items():
        rows = model.objects.filter(pk__gt=mark) if kind == "max" else model.objects.exclude(pk__in=mark)
        rows.delete()


@pytest.fixture(scope="package")
def site(django_db_setup, django_db_blocker, _simulator_server) -> Iterator[Site]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("REQUIRE_BROWSER_TESTS"):
            pytest.fail(missing)
        pytest.skip(missing)

    from tenants.services import tenant_create
    from waba.services.sandbox import sandbox_account_prepare

    with django_db_blocker.unblock():
        public_marks = _public_rows_mark()
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        simulator_url = _simulator_server.base_url
        override = override_settings(
            GRAPH_API_BASE_URL=simulator_url,
            PUBLIC_BASE_URL=f"http://localhost:{server.port}",
            ALLOWED_HOSTS=["localhost", ".localhost", "127.0.0.1"],
        )
        override.enable()
        _simulator_server.simulator.reset()
        Tenant.objects.filter(slug=SLUG).exists() or tenant_create(slug=SLUG, name="Bean & Leaf")
        tenant = Tenant.objects.get(slug=SLUG)
        sandbox = sandbox_account_prepare(
            tenant=tenant, simulator_url=simulator_url, display_name="Bean & Leaf"
        )
        with schema_context(tenant.schema_name):
            User.objects.filter(username=USERNAME).exists() or User.objects.create_superuser(  # an owner
                USERNAME, password=PASSWORD
            )
        workers = _Workers(tenant.schema_name)
        workers.start()
        try:
            yield Site(
                url=f"http://localhost:{server.port}",
                port=server.port,
                tenant=tenant,
                simulator_url=simulator_url,
                phone_number_id=sandbox.ids.phone_number_id,
                account_id=sandbox.account.pk,
            )
        finally:
            workers.stop()
            server.terminate()
            override.disable()
            _simulator_server.simulator.reset()
            connections.close_all()
            Tenant.objects.get(slug=SLUG).delete(force_drop=True)
            _public_rows_forget(public_marks)


@pytest.fixture(scope="package")
def _driver(site) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(_driver, request):
    """The package's Chromium, logged out of every host at the start of each test, at desktop width."""
    _driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    _driver.set_window_size(1280, 900)
    yield _driver


@pytest.fixture(scope="package", autouse=True)
def _screenshots_folder() -> None:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)


def committed(func, *args, **kwargs):
    """Run `func` on a connection of its own that commits, so that the live server sees its rows."""
    from tests.webhooks.conftest import run_committed

    return run_committed(func, *args, **kwargs)


def screenshot(driver, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def wait_for(driver, condition, timeout: float = 10.0, message: str = ""):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # htmx swaps parts of the page while a condition looks at them: look again.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=ignored).until(condition, message)


def assert_fits_the_width(driver) -> None:
    """Nothing on the page is wider than the window (no sideways scrolling at phone width)."""
    overflowing = driver.execute_script(
        """
        const width = document.documentElement.clientWidth;
        return [...document.querySelectorAll('body *')]
          .filter(e => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap, .mainnav ul'))
          .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
        """
    )
    assert not overflowing, f"wider than the window: {overflowing}"


def log_in(
    driver, site: Site, *, username: str = USERNAME, password: str = PASSWORD, next_path: str = ""
) -> None:
    from urllib.parse import urlencode

    from selenium.webdriver.common.by import By

    driver.get(site.tenant_url(f"/app/login/{'?' + urlencode({'next': next_path}) if next_path else ''}"))
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(driver, lambda d: "/app/login/" not in d.current_url, message="the login did not go through")
