"""Customer media in Chromium: photos and voice notes are kept when they arrive (the background job,
run here as the job cluster runs it), play from storage, and one Meta no longer has shows why it could
not be kept, with a Retry button that fetches it again."""

from __future__ import annotations

import base64
import struct
import zlib

import httpx
import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By

from tests.browser.conftest import committed, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CUSTOMER = "4915199900077"


def _png(width: int = 160, height: int = 90) -> bytes:
    """A small real PNG (a teal rectangle), so that the browser draws it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x11\x88\x77" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _customer_sends(site, message_type: str, part: dict) -> dict:
    response = httpx.post(
        f"{site.simulator_url}/_sim/inject/message",
        json={"phone_number_id": site.phone_number_id, "from": CUSTOMER, "profile_name": "Mila Brandt",
              "type": message_type, message_type: part},
        timeout=5,
    )  # fmt: skip
    response.raise_for_status()
    return response.json()


def _media_states(site, wamids: list[str]) -> dict[str, str]:
    def read() -> dict[str, str]:
        from messaging.models import MessageMedia

        with schema_context(site.tenant.schema_name):
            rows = MessageMedia.objects.filter(message__wamid__in=wamids)
            return {str(wamid): state for wamid, state in rows.values_list("message__wamid", "state")}

    return committed(read)


def _keep_due_media(site) -> None:
    def run() -> None:
        from messaging.media import inbound_media_due_keep

        with schema_context(site.tenant.schema_name):
            inbound_media_due_keep()

    committed(run)


def test_customer_media_is_kept_on_arrival_and_a_lost_file_can_be_retried(
    browser, site, _simulator_server, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)  # the live server runs in this process: it stores there too
    photo = _customer_sends(
        site, "image", {"content_base64": base64.b64encode(_png()).decode(), "mime_type": "image/png",
                        "caption": "The cup arrived cracked"},
    )  # fmt: skip
    voice = _customer_sends(site, "audio", {"voice": True})
    lost = _customer_sends(
        site, "image", {"content_base64": base64.b64encode(_png(80, 80)).decode(), "mime_type": "image/png"}
    )
    wamids = [photo["wamid"], voice["wamid"], lost["wamid"]]
    wait_for(browser, lambda d: len(_media_states(site, wamids)) == 3, timeout=20,
             message="the webhook worker did not store the three messages")  # fmt: skip

    simulator = _simulator_server.simulator
    with simulator.state.lock:  # Meta's media ids expire: this one is gone before the job runs
        gone = simulator.state.media.pop(lost["media_id"])
    _keep_due_media(site)  # what the job queued with each message does in the cluster
    assert _media_states(site, wamids) == {
        photo["wamid"]: "stored",
        voice["wamid"]: "stored",
        lost["wamid"]: "failed",
    }

    log_in(browser, site, next_path="/app/inbox/")
    row = wait_for(
        browser,
        lambda d: next(
            (e for e in d.find_elements(By.CSS_SELECTOR, ".inbox-row") if "Mila Brandt" in e.text), None
        ),
        timeout=20,
    )
    row.find_element(By.TAG_NAME, "a").click()
    note = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".msg-media-state"))
    assert note.text.startswith("Media could not be kept: Meta's Graph API refused to hand out the media")
    wait_for(
        browser,
        lambda d: d.execute_script(
            "const img = document.querySelector('img.msg-media'); return img && img.complete && img.naturalWidth;"
        ) == 160,
        message="the kept photo was not shown",
    )  # fmt: skip
    assert len(browser.find_elements(By.CSS_SELECTOR, "audio")) == 1
    browser.execute_script("document.querySelector('.msg-media-state').scrollIntoView({block: 'center'})")
    screenshot(browser, "15-thread-media-not-kept")

    with simulator.state.lock:  # Meta has the file again
        simulator.state.media[gone.id] = gone
    note.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(browser, lambda d: "Fetching the media again." in d.page_source)
    wait_for(
        browser,
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('img.msg-media')].map(i => i.complete && i.naturalWidth);"
        ) == [160, 80],
        timeout=15,
        message="the retried photo was not fetched and shown",
    )  # fmt: skip
    assert not browser.find_elements(By.CSS_SELECTOR, ".msg-media-state")
    assert _media_states(site, wamids)[lost["wamid"]] == "stored"
    screenshot(browser, "16-thread-media-retried")
