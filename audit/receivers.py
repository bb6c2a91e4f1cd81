"""Model signals of the audited models become audit rows, while a request names an actor.

pre_save reads the row as it was (one SELECT, only with an actor and only for an update), post_save
and post_delete write the row in the schema the connection is on, inside the change's transaction
when it has one. Without an actor the receivers return at once.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from audit.context import Actor, current_actor
from audit.models import AuditEntry
from audit.registry import AUDITED_MODELS, MASK, field_is_secret, fields_audited
from platform_core.crypto import Secret
from tenants.models import ApiKey
from tenants.signals import api_keys_revoked

_BEFORE = "_audit_before"
_EMPTY: tuple[Any, ...] = (None, "", [], {})


def _comparable(field: models.Field, instance: models.Model) -> Any:
    value = field.value_from_object(instance)
    return value.reveal() if isinstance(value, Secret) else value


def _shown(field: models.Field, value: Any) -> Any:
    """The value as a row shows it: JSON, and a secret only as whether it is set."""
    if field_is_secret(field):
        return None if value in _EMPTY else MASK
    try:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        return str(value)


def _snapshot(instance: models.Model) -> dict[str, Any]:
    return {field.name: _comparable(field, instance) for field in fields_audited(type(instance))}


def _repr(instance: models.Model) -> str:
    try:
        return str(instance)[:200]
    except Exception:  # a __str__ that needs a deleted relation
        return ""


def entry_write(*, actor: Actor, instance: models.Model, action: str, changes: dict[str, Any]) -> AuditEntry:
    return AuditEntry.objects.create(**_entry_fields(actor, instance, action, changes))


def _entry_fields(
    actor: Actor, instance: models.Model, action: str, changes: dict[str, Any]
) -> dict[str, Any]:
    return {
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_label": actor.label[:200],
        "object_type": instance._meta.label_lower,
        "object_id": str(instance.pk),
        "object_repr": _repr(instance),
        "action": action,
        "changes": changes,
        "client_address": actor.client_address,
        "request_id": actor.request_id[:64],
    }


def before_save(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance._state.adding or instance.pk is None or current_actor() is None:
        return
    stored = sender._base_manager.using(kwargs.get("using") or "default").filter(pk=instance.pk).first()
    if stored is not None:
        instance.__dict__[_BEFORE] = _snapshot(stored)


def after_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    before = instance.__dict__.pop(_BEFORE, None)
    actor = current_actor()
    if raw or actor is None:
        return
    fields = {field.name: field for field in fields_audited(sender)}
    if created:
        changes = {
            name: {"from": None, "to": _shown(field, value)}
            for name, field in fields.items()
            if (value := _comparable(field, instance)) not in _EMPTY
        }
        entry_write(actor=actor, instance=instance, action=AuditEntry.Action.CREATE, changes=changes)
        return
    if before is None:
        return
    update_fields = kwargs.get("update_fields")
    names = [name for name in fields if update_fields is None or name in update_fields]
    changes = {}
    for name in names:
        old, new = before.get(name), _comparable(fields[name], instance)
        if old != new:
            changes[name] = {"from": _shown(fields[name], old), "to": _shown(fields[name], new)}
    if changes:
        entry_write(actor=actor, instance=instance, action=AuditEntry.Action.UPDATE, changes=changes)


def after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    actor = current_actor()
    if actor is None:
        return
    changes = {
        field.name: {"from": _shown(field, value), "to": None}
        for field in fields_audited(sender)
        if (value := _comparable(field, instance)) not in _EMPTY
    }
    entry_write(actor=actor, instance=instance, action=AuditEntry.Action.DELETE, changes=changes)


# The memberships that make a role: a user's groups and permissions, a group's permissions.
_MEMBERSHIPS = {
    User.groups.through: "groups",
    User.user_permissions.through: "user_permissions",
    Group.permissions.through: "permissions",
}


def memberships_changed(
    sender: Any,
    instance: models.Model,
    action: str,
    reverse: bool,
    model: Any,
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    """`{"groups": {"added": [ids]}}` (or "removed") on the object whose membership changed."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    actor = current_actor()
    if actor is None:
        return
    name = _MEMBERSHIPS[sender] if not reverse else f"{model._meta.model_name}_set"
    if action == "pre_clear":
        pk_set = set(getattr(instance, name).values_list("pk", flat=True))
    if not pk_set:
        return
    change = "added" if action == "post_add" else "removed"
    entry_write(
        actor=actor,
        instance=instance,
        action=AuditEntry.Action.UPDATE,
        changes={name: {change: sorted(pk_set)}},
    )


def api_keys_revoked_all(sender: Any, api_keys: list[ApiKey], **kwargs: Any) -> None:
    """A revoke-all updates keys in one statement, without saves: one row per key, in one INSERT."""
    actor = current_actor()
    if actor is None or not api_keys:
        return
    revoked_at = ApiKey._meta.get_field("revoked_at")
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                **_entry_fields(
                    actor,
                    api_key,
                    AuditEntry.Action.UPDATE,
                    {"revoked_at": {"from": None, "to": _shown(revoked_at, api_key.revoked_at)}},
                )
            )
            for api_key in api_keys
        ]
    )


def audited_model_connect(model: type[models.Model]) -> None:
    """Audit `model`'s saves and deletes. For the registry's models, and for an app above this one
    (it cannot be imported from here) to call in its AppConfig.ready(). Idempotent."""
    uid = f"audit.{model._meta.label_lower}"
    pre_save.connect(before_save, sender=model, dispatch_uid=f"{uid}.pre_save")
    post_save.connect(after_save, sender=model, dispatch_uid=f"{uid}.post_save")
    post_delete.connect(after_delete, sender=model, dispatch_uid=f"{uid}.post_delete")


def connect() -> None:
    for model in AUDITED_MODELS:
        audited_model_connect(model)
    for through in _MEMBERSHIPS:
        m2m_changed.connect(
            memberships_changed, sender=through, dispatch_uid=f"audit.{through._meta.label_lower}"
        )
    api_keys_revoked.connect(api_keys_revoked_all, dispatch_uid="audit.api_keys_revoked")
