"""Invitations: single-use, expiring links with which a tenant's user sets their own password.

A tenant's first user is created without a usable password; the platform API hands out a link
`<tenant host>/invite/<token>/` instead of a password. Only the token's SHA-256 is stored (public
schema, `tenants.Invitation`); the link works on its own tenant's host only, until it expires, and
once. The page behind it is `tenants.views.invitation_accept_view`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from platform_core.usage_limits import USERS, usage_limit_check
from tenants.errors import InvitationGone, InvitationNotFound, TenantUserInvalid
from tenants.hosts import tenant_base_url
from tenants.models import Invitation, Tenant

if TYPE_CHECKING:
    from django.contrib.auth.models import User

INVITATION_PATH = "/invite/{token}/"


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    url: str  # shown once: only the token's hash is stored


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tenant_user_name_check(
    *, username: str, email: str, fields: tuple[str, str] = ("username", "email")
) -> None:
    """Raise TenantUserInvalid (422, naming the request's field: `fields` are the names of the user
    name's and the address's) for a malformed user name or e-mail address."""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise TenantUserInvalid(
                f"{email!r} is not an e-mail address.", details=[{"field": fields[1]}]
            ) from None
    User = get_user_model()
    username_field = User._meta.get_field(User.USERNAME_FIELD)
    try:
        if isinstance(username_field, models.Field):
            username_field.clean(username, None)
    except ValidationError as error:
        raise TenantUserInvalid(
            f"{username!r} cannot be a user name: {' '.join(error.messages)}",
            details=[{"field": fields[0]}],
        ) from None


@transaction.atomic
def tenant_user_invite(
    *, tenant: Tenant, username: str, email: str = "", created_by: str = ""
) -> IssuedInvitation:
    """Issue a link with which `username` of `tenant` sets a password; a new link replaces earlier
    unused ones of that user.

    A missing user is created in the tenant's schema as a superuser without a usable password (so
    it cannot log in before the link is used); an existing user keeps its password until then.
    """
    tenant_user_name_check(username=username, email=email)
    with schema_context(tenant.schema_name):
        User = get_user_model()
        if not User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
            usage_limit_check(resource=USERS)  # the plan's users (402 plan_limit_reached)
            User.objects.create_superuser(username=username, email=email, password=None)
    Invitation.objects.filter(tenant=tenant, username=username, used_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        tenant=tenant,
        username=username,
        token_hash=_token_hash(token),
        created_by=created_by[:150],
        expires_at=timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS),
    )
    domain = tenant.domains.get(is_primary=True).domain
    return IssuedInvitation(
        invitation=invitation, url=tenant_base_url(domain=domain) + INVITATION_PATH.format(token=token)
    )


def invitation_find(*, tenant: Tenant, token: str, for_update: bool = False) -> Invitation:
    """The usable invitation of `tenant` behind `token`.

    Raises InvitationNotFound (404) for an unknown token or another tenant's, InvitationGone (410,
    code `invitation_used` or `invitation_expired`) for one that no longer works.
    """
    invitations = Invitation.objects.select_for_update() if for_update else Invitation.objects.all()
    invitation = invitations.filter(tenant=tenant, token_hash=_token_hash(token)).first() if token else None
    if invitation is None:
        raise InvitationNotFound("This invitation link is not valid on this workspace.")
    if invitation.used_at is not None:
        raise InvitationGone(
            "This invitation link was used already: log in with the password set then, or ask the "
            "platform operator for a new link.",
            code="invitation_used",
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationGone(
            "This invitation link has expired: ask the platform operator for a new link.",
            code="invitation_expired",
        )
    return invitation


def invitation_user(*, invitation: Invitation) -> User:
    """The invited user, in the current schema (the request's tenant); InvitationNotFound if the user
    was deleted since."""
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: invitation.username}).first()
    if user is None:
        raise InvitationNotFound("This invitation link is not valid on this workspace.")
    return user


@transaction.atomic
def invitation_accept(*, tenant: Tenant, token: str, password: str) -> User:
    """Set the invited user's password and spend the link, in the tenant's schema (the current one
    on its host). Raises ValidationError for a password the validators refuse, and what
    `invitation_find` raises; a link used concurrently is spent only once (the row is locked).
    """
    invitation = invitation_find(tenant=tenant, token=token, for_update=True)
    with schema_context(tenant.schema_name):
        user = invitation_user(invitation=invitation)
        password_validation.validate_password(password, user)
        user.set_password(password)
        user.save(update_fields=["password"])
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    return user
