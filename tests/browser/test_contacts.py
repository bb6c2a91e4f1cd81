"""Contacts in Chromium: create a contact with an attribute, record an opt-out, import a CSV file
through the mapping step to its error report, and the list at phone width."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CSV_TEXT = "Name,Mobile,City\nOtto Brandt,0170 1234567,Hamburg\nNo Number,,Bremen\n"


def test_create_opt_out_and_import_contacts(browser, site, sync_jobs, tmp_path):
    def seed():
        from contacts.models import AttributeDefinition

        with schema_context(site.tenant.schema_name):
            AttributeDefinition.objects.get_or_create(key="city", defaults={"label": "City", "type": "text"})

    committed(seed)
    log_in(browser, site, next_path="/app/contacts/")
    browser.get(site.tenant_url("/app/contacts/new/"))
    browser.find_element(By.ID, "id_phone").send_keys("12")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    error = wait_for(browser, lambda d: d.find_element(By.ID, "id_phone_errors"))
    assert "not a phone number" in error.text
    screenshot(browser, "60-contacts-create-error")
    phone = browser.find_element(By.ID, "id_phone")
    phone.clear()
    phone.send_keys("+49 151 55501234")
    browser.find_element(By.ID, "id_profile_name").send_keys("Greta Vogel")
    browser.find_element(By.ID, "id_attr_city").send_keys("Berlin")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Greta Vogel")
    assert "+4915155501234" in browser.find_element(By.CSS_SELECTOR, ".page-head").text
    assert "Berlin" in browser.find_element(By.ID, "profile-heading").find_element(By.XPATH, "..").text

    browser.find_element(By.ID, "id_consent_note").send_keys("asked at the counter")
    browser.find_element(By.CSS_SELECTOR, "button[name=kind][value=opt_out]").click()
    wait_for(browser, lambda d: "Opt-out recorded" in d.find_element(By.CSS_SELECTOR, ".flash").text)
    consent = browser.find_element(By.ID, "consent-heading").find_element(By.XPATH, "..").text
    assert "Opted out" in consent and "asked at the counter" in consent
    screenshot(browser, "61-contacts-detail")

    csv_file = tmp_path / "people.csv"
    csv_file.write_text(CSV_TEXT)
    browser.get(site.tenant_url("/app/contacts/import/"))
    browser.find_element(By.ID, "id_file").send_keys(str(csv_file))
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "id_col_1"))
    assert Select(browser.find_element(By.ID, "id_col_2")).first_selected_option.text == "Attribute: City"
    Select(browser.find_element(By.ID, "id_col_1")).select_by_value("phone")
    browser.find_element(By.ID, "id_default_country").send_keys("DE")
    screenshot(browser, "62-contacts-import-mapping")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    progress = wait_for(browser, lambda d: d.find_element(By.ID, "import-progress"))
    wait_for(browser, lambda d: "1 created" in d.find_element(By.ID, "import-progress").text, timeout=20)
    assert "1 with errors" in progress.text
    assert browser.find_element(By.LINK_TEXT, "Download the error report (CSV)")
    screenshot(browser, "63-contacts-import-done")

    browser.find_element(By.LINK_TEXT, "See the contacts").click()
    wait_for(browser, lambda d: "Otto Brandt" in d.find_element(By.CSS_SELECTOR, ".contacts-table").text)
    browser.find_element(By.ID, "id_q").send_keys("greta")
    browser.find_element(By.CSS_SELECTOR, ".contacts-filters button[type=submit]").click()
    wait_for(browser, lambda d: "Otto Brandt" not in d.find_element(By.CSS_SELECTOR, ".contacts-table").text)
    screenshot(browser, "64-contacts-list")
    browser.set_window_size(390, 844)
    browser.get(site.tenant_url("/app/contacts/"))
    assert_fits_the_width(browser)
    screenshot(browser, "65-contacts-list-phone")
    browser.get(site.tenant_url(f"/app/contacts/{_contact_id(site, '4915155501234')}/"))
    assert_fits_the_width(browser)
    screenshot(browser, "66-contacts-detail-phone")


def _contact_id(site, wa_id: str) -> int:
    def read():
        from messaging.models import Contact

        with schema_context(site.tenant.schema_name):
            return Contact.objects.get(wa_id=wa_id).pk

    return committed(read)
