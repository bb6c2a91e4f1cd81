"""Each API schema name means one class: django-ninja keys OpenAPI components by class name, so two
classes of one name make one of them validate (and document) the other's responses."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema

import platform_core.urls_public  # noqa: F401  (imports every router and its schemas)
import platform_core.urls_tenant  # noqa: F401

PROJECT_PACKAGES = ("platform_core", "tenants", "waba", "messaging", "sending", "webhooks", "automations",
                    "flows_builder", "broadcasts", "contacts", "analytics", "billing", "integrations", "console")


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    sub: type
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


def test_no_two_project_schemas_share_a_name():
    by_name: dict[str, set[str]] = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.split(".")[0] in PROJECT_PACKAGES:
            by_name[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    clashes = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert clashes == {}
