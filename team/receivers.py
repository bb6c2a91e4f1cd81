"""Every new user of a tenant's schema gets a membership: superusers (a workspace's first user, made by
the platform's invitation, or `createsuperuser`) as owners, anyone else as a viewer until given a role."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import get_public_schema_name

from team.models import Membership
from team.roles import Role
from tenants.context import connection


def membership_on_user_created(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw or connection.schema_name == get_public_schema_name():
        return
    role = Role.OWNER if instance.is_superuser else Role.VIEWER
    Membership.objects.get_or_create(user=instance, defaults={"role": role})
