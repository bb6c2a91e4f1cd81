"""Reads about the workspace's people (tenant schema)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from team.models import Membership
from team.roles import Role


def membership_of(*, user: Any) -> Membership:
    """The user's membership, read once per user object (a request's checks and navigation share it);
    one the user has none of yet (made outside Django's signals) is answered unsaved, as
    `team.receivers` would have made it."""
    try:
        return user.membership
    except Membership.DoesNotExist:
        return Membership(user=user, role=Role.OWNER if user.is_superuser else Role.VIEWER)


def account_ids_visible_to(*, user_id: int | None) -> frozenset[int] | None:
    """The WhatsApp accounts whose conversations the user may see: None for every account."""
    membership = Membership.objects.filter(user_id=user_id).first() if user_id is not None else None
    if membership is None or not membership.limited_to_accounts:
        return None
    return frozenset(membership.accounts.values_list("pk", flat=True))


def team_members() -> QuerySet[Any]:
    """The schema's users with their membership and accounts, active ones first, then by name."""
    return (
        get_user_model()
        .objects.select_related("membership")
        .prefetch_related("membership__accounts")
        .order_by("-is_active", "username")
    )


def active_owner_count() -> int:
    return Membership.objects.filter(role=Role.OWNER, user__is_active=True).count()
