"""Roles beyond the matrix: agents see only their accounts' conversations, the Team page (invite with a
role, change a role, deactivate), the owner rules, the tenant admin, and the defaults of new and
existing users."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.test import Client

from messaging.models import Conversation
from team.models import Membership, MembershipAccount
from tenants.models import Invitation
from tests.billing.factories import plan_version, subscribe
from tests.conftest import host_of
from tests.console.test_roles import role_client
from tests.factories import ContactFactory, ConversationFactory, PhoneNumberFactory


@pytest.fixture
def two_accounts(tenant_a, tenant_b, in_tenant):
    """Alpha's accounts `mine` and `other` with one conversation each, and a conversation of beta's
    whose id alpha's schema does not hold."""
    with in_tenant(tenant_a):
        mine, other = PhoneNumberFactory(), PhoneNumberFactory()
        chat_mine = ConversationFactory(phone_number=mine, contact=ContactFactory(profile_name="Mina Mine"))
        chat_other = ConversationFactory(
            phone_number=other, contact=ContactFactory(profile_name="Otto Other")
        )
        alpha_ids = set(Conversation.objects.values_list("pk", flat=True))
    with in_tenant(tenant_b):
        chat_beta = ConversationFactory(contact=ContactFactory(profile_name="Bea Beta"))
        while chat_beta.pk in alpha_ids:
            chat_beta = ConversationFactory(contact=ContactFactory(profile_name="Bea Beta"))
    return {
        "mine": mine.account,
        "other": other.account,
        "chat_mine": chat_mine,
        "chat_other": chat_other,
        "chat_beta": chat_beta,
    }


def test_an_agent_lists_and_opens_only_conversations_of_their_accounts(tenant_a, in_tenant, two_accounts):
    with in_tenant(tenant_a):
        agent = role_client(tenant_a, "agent", accounts=[two_accounts["mine"]])
        admin = role_client(tenant_a, "admin")
    listed = agent.get("/app/inbox/").content.decode()
    assert "Mina Mine" in listed and "Otto Other" not in listed
    assert "Otto Other" not in agent.get("/app/inbox/list/?q=Otto").content.decode()

    assert agent.get(f"/app/inbox/{two_accounts['chat_mine'].pk}/").status_code == 200
    other = two_accounts["chat_other"].pk
    assert agent.get(f"/app/inbox/{other}/").status_code == 404
    assert agent.get(f"/app/inbox/{other}/updates/").status_code == 404
    assert agent.post(f"/app/inbox/{other}/reply/", {"kind": "text", "text": "hi"}).status_code == 404
    assert agent.post(f"/app/inbox/{other}/assign/", {"user_id": ""}).status_code == 404
    assert agent.get(f"/app/inbox/{two_accounts['chat_beta'].pk}/").status_code == 404

    everything = admin.get("/app/inbox/").content.decode()
    assert "Mina Mine" in everything and "Otto Other" in everything
    assert admin.get(f"/app/inbox/{other}/").status_code == 200
    assert admin.get(f"/app/inbox/{two_accounts['chat_beta'].pk}/").status_code == 404


def test_an_agent_without_accounts_sees_no_conversation(tenant_a, in_tenant, two_accounts):
    with in_tenant(tenant_a):
        agent = role_client(tenant_a, "agent")
    listed = agent.get("/app/inbox/").content.decode()
    assert "Mina Mine" not in listed and "Otto Other" not in listed
    assert agent.get(f"/app/inbox/{two_accounts['chat_mine'].pk}/").status_code == 404


def test_an_owner_invites_an_agent_with_their_accounts(tenant_a, in_tenant, console_a, two_accounts):
    response = console_a.get("/app/team/")
    assert response.status_code == 200 and "ana" in response.content.decode()
    token = response.content.decode().split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]

    response = console_a.post(
        "/app/team/invite/",
        {
            "username": "zoe",
            "email": "zoe@alpha.test",
            "role": "agent",
            "accounts": [two_accounts["mine"].pk],
            "csrfmiddlewaretoken": token,
        },
    )

    assert response.status_code == 200
    link = response.content.decode().split('id="invitation-url" value="', 1)[1].split('"', 1)[0]
    assert link.startswith(f"http://{host_of(tenant_a)}") and "/invite/" in link
    assert Invitation.objects.get(tenant=tenant_a, username="zoe").used_at is None
    with in_tenant(tenant_a):
        zoe = User.objects.get(username="zoe")
        assert not zoe.has_usable_password() and not zoe.is_staff and not zoe.is_superuser
        assert zoe.membership.role == "agent"
        assert list(zoe.membership.accounts.all()) == [two_accounts["mine"]]
    listed = console_a.get("/app/team/").content.decode()
    assert "zoe" in listed and "Agent" in listed


def test_an_invitation_is_refused_for_a_taken_name_or_another_workspaces_account(
    tenant_a, tenant_b, in_tenant, two_accounts
):
    with in_tenant(tenant_b):
        beta_account = PhoneNumberFactory().account
    with in_tenant(tenant_a):
        owner = role_client(tenant_a, "owner")
        alpha_accounts = set(two_accounts["mine"].__class__.objects.values_list("pk", flat=True))
    taken = owner.post("/app/team/invite/", {"username": "owner-person", "role": "viewer"})
    assert taken.status_code == 409 and "already in this workspace" in taken.content.decode()
    if beta_account.pk not in alpha_accounts:
        foreign = owner.post(
            "/app/team/invite/", {"username": "yann", "role": "agent", "accounts": [beta_account.pk]}
        )
        assert foreign.status_code == 422
    with in_tenant(tenant_a):
        assert not User.objects.filter(username="yann").exists()


def test_an_admin_changes_a_role_and_accounts_but_never_an_owner(tenant_a, in_tenant, two_accounts):
    with in_tenant(tenant_a):
        admin = role_client(tenant_a, "admin")
        role_client(tenant_a, "viewer")
        role_client(tenant_a, "owner")
        viewer = User.objects.get(username="viewer-person")
        owner = User.objects.get(username="owner-person")

    changed = admin.post(f"/app/team/{viewer.pk}/", {"role": "agent", "accounts": [two_accounts["other"].pk]})
    assert changed.status_code == 302
    with in_tenant(tenant_a):
        membership = Membership.objects.get(user=viewer)
        assert membership.role == "agent" and list(membership.accounts.all()) == [two_accounts["other"]]

    promote = admin.post(f"/app/team/{viewer.pk}/", {"role": "owner"})
    assert promote.status_code == 403 and "Only an owner can make an owner" in promote.content.decode()
    demote = admin.post(f"/app/team/{owner.pk}/", {"role": "viewer"})
    assert demote.status_code == 403
    deactivate = admin.post(f"/app/team/{owner.pk}/active/", {"active": "0"})
    assert deactivate.status_code == 403
    with in_tenant(tenant_a):
        assert Membership.objects.get(user=owner).role == "owner"
        assert Membership.objects.get(user=viewer).role == "agent"
        assert User.objects.get(pk=owner.pk).is_active


def test_the_last_owner_is_neither_demoted_nor_deactivated(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        first = role_client(tenant_a, "owner", username="first-owner")
        role_client(tenant_a, "owner", username="second-owner")
        Membership.objects.exclude(user__username__in=["first-owner", "second-owner"]).update(role="viewer")
        first_user = User.objects.get(username="first-owner")
        second_user = User.objects.get(username="second-owner")

    assert first.post(f"/app/team/{second_user.pk}/", {"role": "admin"}).status_code == 302
    refused = first.post(f"/app/team/{first_user.pk}/", {"role": "admin"})
    assert refused.status_code == 409 and "last owner" in refused.content.decode()
    assert first.post(f"/app/team/{first_user.pk}/active/", {"active": "0"}).status_code == 403  # oneself

    with in_tenant(tenant_a):
        admin = Client(HTTP_HOST=host_of(tenant_a))
        admin.force_login(User.objects.get(username="second-owner"))
    admin_try = admin.post(f"/app/team/{first_user.pk}/active/", {"active": "0"})
    assert admin_try.status_code == 403  # an admin changes no owner
    with in_tenant(tenant_a):
        assert Membership.objects.get(user=first_user).role == "owner"
        assert User.objects.get(pk=first_user.pk).is_active


def test_a_deactivated_member_is_logged_out_and_a_reactivated_one_back(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        owner = role_client(tenant_a, "owner")
        agent = role_client(tenant_a, "agent")
        agent_user = User.objects.get(username="agent-person")
    assert owner.post(f"/app/team/{agent_user.pk}/active/", {"active": "0"}).status_code == 302
    assert agent.get("/app/inbox/").status_code == 302  # to the login page
    assert owner.post(f"/app/team/{agent_user.pk}/active/", {"active": "1"}).status_code == 302
    with in_tenant(tenant_a):
        assert User.objects.get(pk=agent_user.pk).is_active


def test_an_unknown_role_is_refused(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        owner = role_client(tenant_a, "owner")
        role_client(tenant_a, "viewer")
        viewer = User.objects.get(username="viewer-person")
    response = owner.post(f"/app/team/{viewer.pk}/", {"role": "emperor"})
    assert response.status_code == 422 and "Select a valid choice" in response.content.decode()
    with in_tenant(tenant_a):
        assert Membership.objects.get(user=viewer).role == "viewer"


def test_a_member_id_not_in_this_workspace_is_not_found(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        owner = role_client(tenant_a, "owner")
        missing = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    assert owner.get(f"/app/team/{missing}/").status_code == 404
    assert owner.post(f"/app/team/{missing}/", {"role": "viewer"}).status_code == 404
    assert owner.post(f"/app/team/{missing}/active/", {"active": "0"}).status_code == 404


def test_the_tenant_admin_opens_to_owners_and_admins_only(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        owner = role_client(tenant_a, "owner")
        role_client(tenant_a, "viewer")
        viewer = User.objects.get(username="viewer-person")
    promoted = Client(HTTP_HOST=host_of(tenant_a))
    with in_tenant(tenant_a):
        promoted.force_login(viewer)
    assert promoted.get("/admin/").status_code == 302  # to the admin's login

    assert owner.post(f"/app/team/{viewer.pk}/", {"role": "admin"}).status_code == 302
    assert promoted.get("/admin/").status_code == 200
    roles = promoted.get("/admin/team/membership/")
    assert roles.status_code == 200 and "viewer-person" in roles.content.decode()
    assert promoted.get("/admin/team/membership/add/").status_code == 403  # roles change on the Team page

    assert owner.post(f"/app/team/{viewer.pk}/", {"role": "agent"}).status_code == 302
    assert promoted.get("/admin/").status_code == 302
    with in_tenant(tenant_a):
        demoted = User.objects.get(pk=viewer.pk)
        assert not demoted.is_staff and not demoted.is_superuser


def test_new_users_start_as_viewers_and_superusers_as_owners(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        assert User.objects.create_user("newcomer").membership.role == "viewer"
        assert User.objects.create_superuser("root", password=None).membership.role == "owner"


def test_the_migration_makes_every_existing_user_an_owner(tenant_a, in_tenant):
    migration = importlib.import_module("team.migrations.0002_existing_users_are_owners")
    with in_tenant(tenant_a):
        plain = User.objects.create_user("before-roles")
        Membership.objects.all().delete()

        migration.existing_users_owners(django_apps, None)

        assert Membership.objects.get(user=plain).role == "owner"
        assert set(Membership.objects.values_list("role", flat=True)) == {"owner"}
        assert Membership.objects.count() == User.objects.count()


def test_a_deleted_user_takes_their_membership_along_and_a_public_user_has_none(
    tenant_a, in_tenant, two_accounts
):
    with in_tenant(tenant_a):
        leaving = User.objects.create_user("leaving")
        membership = Membership.objects.get(user=leaving)
        membership.accounts.set([two_accounts["mine"]])
        leaving.delete()
        assert not Membership.objects.filter(pk=membership.pk).exists()
        assert not MembershipAccount.objects.filter(membership_id=membership.pk).exists()
    operator = User.objects.create_user("former-operator", is_staff=True)  # public schema: no membership
    operator.delete()


def test_the_team_page_keeps_to_the_plans_users(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        owner = role_client(tenant_a, "owner")
        leaver = User.objects.create_user("leaver", is_active=False)
        used = User.objects.filter(is_active=True).count()
    subscribe(tenant_a, plan_version(max_users=used))

    refused = owner.post("/app/team/invite/", {"username": "one-too-many", "role": "viewer"})
    assert refused.status_code == 402 and f"The plan allows {used} users" in refused.content.decode()
    back = owner.post(f"/app/team/{leaver.pk}/active/", {"active": "1"})
    assert back.status_code == 402
    with in_tenant(tenant_a):
        assert not User.objects.filter(username="one-too-many").exists()
        assert not User.objects.get(pk=leaver.pk).is_active
