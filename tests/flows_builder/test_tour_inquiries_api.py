"""The tour inquiries API: this workspace's inquiries, newest first, filtered by status and tour, one by
id; another workspace's ids are 404 and its inquiries never listed; a read-only key may read them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from flows_builder.models import TourInquiry
from tenants.services import api_key_create
from tests.conftest import ApiClient, host_of

URL = "/api/v1/flows/tour-inquiries"


def _inquiry(*, name: str, age_days: int, **fields) -> TourInquiry:
    inquiry = TourInquiry.objects.create(
        customer_name=name,
        customer_phone="+255712345678",
        tour=fields.pop("tour", TourInquiry.Tour.SERENGETI_SAFARI),
        departure_date=date(2027, 7, 1),
        return_date=date(2027, 7, 6),
        travellers=fields.pop("travellers", 2),
        budget=fields.pop("budget", TourInquiry.Budget.FROM_1000_TO_3000),
        **fields,
    )
    TourInquiry.objects.filter(pk=inquiry.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    inquiry.refresh_from_db()
    return inquiry


@pytest.fixture
def inquiries(tenant_a, tenant_b, in_tenant) -> dict[str, TourInquiry]:
    with in_tenant(tenant_a):
        alpha = {
            "oldest": _inquiry(name="Amani", age_days=3, status="completed"),
            "middle": _inquiry(name="Baraka", age_days=2, tour=TourInquiry.Tour.ZANZIBAR_BEACH,
                               customer_email="baraka@example.com", notes="Honeymoon"),
            "newest": _inquiry(name="Chiku", age_days=1, travellers=4, budget=TourInquiry.Budget.OVER_3000),
        }
    with in_tenant(tenant_b):
        alpha["beta"] = _inquiry(name="Dalia", age_days=0)
    return alpha


def test_the_list_is_this_workspaces_inquiries_newest_first(api_a, inquiries):
    response = api_a.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [item["customer_name"] for item in body["items"]] == ["Chiku", "Baraka", "Amani"]
    newest = body["items"][0]
    assert newest == {
        "id": inquiries["newest"].pk,
        "contact_id": None,
        "flow_response_id": None,
        "customer_name": "Chiku",
        "customer_phone": "+255712345678",
        "customer_email": "",
        "tour": "serengeti_safari",
        "departure_date": "2027-07-01",
        "return_date": "2027-07-06",
        "travellers": 4,
        "budget": "over_3000",
        "notes": "",
        "status": "new",
        "created_at": newest["created_at"],
    }


def test_the_list_pages_and_filters_by_status_and_tour(api_a, inquiries):
    page = api_a.get(f"{URL}?limit=2&offset=2").json()
    assert (page["count"], [item["customer_name"] for item in page["items"]]) == (3, ["Amani"])

    fresh = api_a.get(f"{URL}?status=new").json()
    assert [item["customer_name"] for item in fresh["items"]] == ["Chiku", "Baraka"]
    beach = api_a.get(f"{URL}?tour=zanzibar_beach").json()
    assert [(item["customer_name"], item["notes"]) for item in beach["items"]] == [("Baraka", "Honeymoon")]
    assert api_a.get(f"{URL}?status=completed&tour=zanzibar_beach").json()["count"] == 0


def test_an_unknown_status_is_refused_naming_the_parameter(api_a, inquiries):
    response = api_a.get(f"{URL}?status=lost")

    assert response.status_code == 422
    error = response.json()["error"]
    assert [detail["field"] for detail in error["details"]] == ["query.status"]


def test_one_inquiry_by_id(api_a, inquiries):
    response = api_a.get(f"{URL}/{inquiries['middle'].pk}")

    assert response.status_code == 200
    body = response.json()
    assert (body["customer_name"], body["tour"], body["customer_email"]) == (
        "Baraka", "zanzibar_beach", "baraka@example.com")


def test_another_workspaces_inquiry_is_not_found_and_never_listed(api_a, api_b, inquiries):
    for api, other in ((api_b, inquiries["newest"]), (api_a, inquiries["beta"])):
        response = api.get(f"{URL}/{other.pk}")
        assert response.status_code == 404
        error = response.json()["error"]
        assert (error["code"], error["message"]) == ("request_not_found", f"No tour inquiry with id {other.pk}.")
    assert [item["customer_name"] for item in api_b.get(URL).json()["items"]] == ["Dalia"]


def test_a_read_only_key_reads_them_and_no_key_is_refused(tenant_a, inquiries):
    reader = ApiClient(host_of(tenant_a), api_key_create(tenant=tenant_a, name="reader", scopes=["read"]).key)
    assert reader.get(URL).json()["count"] == 3
    assert reader.get(f"{URL}/{inquiries['oldest'].pk}").status_code == 200

    anonymous = ApiClient(host_of(tenant_a))
    assert anonymous.get(URL).status_code == 401
