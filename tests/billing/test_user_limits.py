"""The plan's users: inviting a new user past the plan's allowance is refused with 402, at the exact boundary."""

from __future__ import annotations

from django.contrib.auth.models import User

from tests.billing.factories import plan_version, subscribe


def active_users(tenant, in_tenant) -> int:
    with in_tenant(tenant):
        return User.objects.filter(is_active=True).count()


def invite(platform_api, tenant, username):
    return platform_api.post_json(
        f"/api/platform/tenants/{tenant.slug}/invitations",
        {"username": username, "email": f"{username}@x.test"},
    )


def test_the_invitation_that_reaches_the_allowance_is_allowed_the_next_is_refused(
    platform_api, tenant_a, in_tenant
):
    used = active_users(tenant_a, in_tenant)
    subscribe(tenant_a, plan_version(max_users=used + 1))

    reaching = invite(platform_api, tenant_a, "carla")
    past = invite(platform_api, tenant_a, "diego")

    assert reaching.status_code == 201, reaching.json()
    assert past.status_code == 402
    error = past.json()["error"]
    assert error["code"] == "plan_limit_reached"
    assert error["details"] == {"resource": "users", "limit": used + 1, "used": used + 1, "resets_at": None}
    assert error["message"] == f"The plan allows {used + 1} users; this workspace has {used + 1}."
    with in_tenant(tenant_a):
        assert not User.objects.filter(username="diego").exists()
    # A new link for a user who is already there adds nobody: allowed at the limit.
    assert invite(platform_api, tenant_a, "carla").status_code == 201


def test_a_deactivated_user_frees_a_seat(platform_api, tenant_a, in_tenant):
    used = active_users(tenant_a, in_tenant)
    subscribe(tenant_a, plan_version(max_users=used))
    assert invite(platform_api, tenant_a, "erin").status_code == 402
    with in_tenant(tenant_a):
        User.objects.filter(pk=User.objects.filter(is_active=True).latest("id").pk).update(is_active=False)

    assert invite(platform_api, tenant_a, "erin").status_code == 201


def test_another_tenants_plan_does_not_limit_this_one(platform_api, tenant_a, tenant_b, in_tenant):
    subscribe(tenant_b, plan_version(max_users=0))

    assert invite(platform_api, tenant_a, "frida").status_code == 201
    assert invite(platform_api, tenant_b, "frida").status_code == 402
