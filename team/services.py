"""Changes to the workspace's people (tenant schema, the current one): inviting with a role, changing a
role or an agent's accounts, deactivating. The rules of `team.roles` about owners live here:

- only an owner makes an owner, or changes or deactivates one;
- the last active owner stays an active owner (the owner rows are locked while counting);
- nobody deactivates themselves;
- the role decides the tenant admin: `is_staff` and `is_superuser` follow it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from platform_core.usage_limits import USERS, usage_limit_check
from team.errors import (
    KeyScopeBeyondRole,
    LastOwner,
    MemberAccountUnknown,
    MemberExists,
    MemberNotFound,
    RoleChangeRefused,
    RoleUnknown,
)
from team.models import Membership
from team.roles import ADMIN_SITE_ROLES, KEY_SCOPES, Area, Role, role_allows
from team.roles import Access as _Access
from team.selectors import membership_of
from tenants.invitations import IssuedInvitation, tenant_user_invite, tenant_user_name_check
from tenants.models import Tenant
from waba.models import WhatsAppAccount


def _flags_apply(user: Any, role: str) -> None:
    admin = role in ADMIN_SITE_ROLES
    if user.is_staff != admin or user.is_superuser != admin:
        user.is_staff = user.is_superuser = admin
        user.save(update_fields=["is_staff", "is_superuser"])


def _accounts_get(account_ids: Iterable[int]) -> list[WhatsAppAccount]:
    wanted = set(account_ids)
    accounts = list(WhatsAppAccount.objects.filter(pk__in=wanted))
    if len(accounts) != len(wanted):
        raise MemberAccountUnknown("One of the chosen WhatsApp accounts is not in this workspace.")
    return accounts


def _actor_check(*, actor: Any, current_role: str | None, new_role: str | None) -> None:
    """Raise RoleChangeRefused unless `actor` may move a member from `current_role` to `new_role`."""
    if new_role is not None and new_role not in Role.values:
        raise RoleUnknown(f"{new_role!r} is not a role: one of {', '.join(Role.values)}.")
    actor_role = membership_of(user=actor).role
    if not role_allows(actor_role, Area.TEAM, _Access.CHANGE):
        raise RoleChangeRefused("Only owners and admins manage the team.")
    if Role.OWNER in (current_role, new_role) and actor_role != Role.OWNER:
        raise RoleChangeRefused("Only an owner can make an owner or change one.")


def _last_owner_check(*, membership: Membership) -> None:
    """Raise LastOwner if `membership` is the workspace's only active owner (owner rows locked)."""
    owners = Membership.objects.select_for_update().filter(role=Role.OWNER, user__is_active=True)
    if not owners.exclude(pk=membership.pk).exists():
        raise LastOwner("This is the workspace's last owner: make someone else an owner first.")


def _member_get(user_id: int, *, for_update: bool = True) -> Membership:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise MemberNotFound("No such person in this workspace.")
    membership = membership_of(user=user)
    if membership.pk is None:
        membership.save()
    elif for_update:
        membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    return membership


@transaction.atomic
def member_invite(
    *, tenant: Tenant, actor: Any, username: str, email: str, role: str, account_ids: Iterable[int] = ()
) -> IssuedInvitation:
    """Add a user to the workspace with `role` (and, for an agent, its accounts) and issue their
    invitation link (shown once). The new user has no password until the link is used."""
    _actor_check(actor=actor, current_role=None, new_role=role)
    tenant_user_name_check(username=username, email=email)
    User = get_user_model()
    if User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
        raise MemberExists(f"{username!r} is already in this workspace.", details=[{"field": "username"}])
    accounts = _accounts_get(account_ids)
    usage_limit_check(resource=USERS)  # the plan's users (402 plan_limit_reached)
    user = User.objects.create_user(username=username, email=email, password=None)
    membership = membership_of(user=user)
    membership.role = role
    membership.save()
    membership.accounts.set(accounts)
    _flags_apply(user, role)
    return tenant_user_invite(
        tenant=tenant, username=username, email=email, created_by=f"console:{actor.get_username()}"
    )


@transaction.atomic
def member_update(*, actor: Any, user_id: int, role: str, account_ids: Iterable[int] = ()) -> Membership:
    """Give the member `role` and these accounts (read for agents only)."""
    membership = _member_get(user_id)
    _actor_check(actor=actor, current_role=membership.role, new_role=role)
    if membership.role == Role.OWNER and role != Role.OWNER:
        _last_owner_check(membership=membership)
    accounts = _accounts_get(account_ids)
    membership.role = role
    membership.save()
    membership.accounts.set(accounts)
    _flags_apply(membership.user, role)
    return membership


@transaction.atomic
def member_active_set(*, actor: Any, user_id: int, active: bool) -> Membership:
    """Deactivate (they can no longer log in, their open sessions stop working) or reactivate a member."""
    membership = _member_get(user_id)
    _actor_check(actor=actor, current_role=membership.role, new_role=None)
    if not active:
        if membership.user_id == actor.pk:
            raise RoleChangeRefused("You cannot deactivate yourself.")
        if membership.role == Role.OWNER:
            _last_owner_check(membership=membership)
    user = membership.user
    if user.is_active != active:
        if active:
            usage_limit_check(resource=USERS)  # a reactivated user takes a seat of the plan again
        user.is_active = active
        user.save(update_fields=["is_active"])
    return membership


def key_scopes_check(*, user: Any, scopes: Iterable[str]) -> None:
    """Raise KeyScopeBeyondRole if `user`'s role may not hand out one of `scopes` in a new API key."""
    role = membership_of(user=user).role
    allowed = KEY_SCOPES.get(role, frozenset())
    beyond = sorted(set(scopes) - allowed)
    if beyond:
        label = Role(role).label
        raise KeyScopeBeyondRole(
            f"Your role ({label}) cannot create a key with the scope{'s' if len(beyond) > 1 else ''} "
            f"{', '.join(beyond)}.",
            details={"refused_scopes": beyond, "role_scopes": sorted(allowed)},
        )
