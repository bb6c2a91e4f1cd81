"""A conversation's assignee is a user of the tenant's own schema; users come and go safely."""

from __future__ import annotations

from django.contrib.auth.models import User

from messaging.models import Conversation
from tests.factories import ConversationFactory


def test_deleting_a_tenant_user_unassigns_their_conversations(tenant_a, in_tenant):
    with in_tenant(tenant_a):  # alpha's schema was cloned from the template: its constraint came along
        user = User.objects.create_user("leaving")
        conversation = ConversationFactory(assigned_to=user)
        user.delete()
        assert Conversation.objects.get(pk=conversation.pk).assigned_to_id is None


def test_deleting_a_platform_user_does_not_look_for_conversations_in_the_public_schema(db):
    operator = User.objects.create_user("former-operator", is_staff=True)
    operator.delete()
    assert not User.objects.filter(username="former-operator").exists()
