"""A tenant user's place in the workspace (tenant schema): their role and, for agents, their accounts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from team.roles import ACCOUNT_LIMITED_ROLES, Role


class Membership(models.Model):
    """One per user of the schema. `accounts` limit only the roles in `ACCOUNT_LIMITED_ROLES`; for the
    others they are kept (a demoted agent keeps their accounts) but not read.

    The user table exists in the public schema too, where this table does not: deleting a public
    user must not make Django's collector look for memberships there. So Django does nothing on
    delete, and the database's own constraints (migration 0001, ON DELETE CASCADE) remove a deleted
    tenant user's membership and its accounts, as `messaging.Conversation.assigned_to` does.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="membership",
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    accounts = models.ManyToManyField(
        "waba.WhatsAppAccount", through="MembershipAccount", blank=True, related_name="members"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.role}"

    @property
    def limited_to_accounts(self) -> bool:
        return self.role in ACCOUNT_LIMITED_ROLES


class MembershipAccount(models.Model):
    """An account of a member's. Its row goes with the membership in the database (see Membership)."""

    membership = models.ForeignKey(Membership, on_delete=models.DO_NOTHING, db_constraint=False)
    account = models.ForeignKey("waba.WhatsAppAccount", on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "account"], name="team_member_account_once")
        ]
