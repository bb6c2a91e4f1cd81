"""Who may open the console on this host: any active user of the tenant's own schema on a tenant's
host, the public schema's staff on the public host. Users live per schema, so a session made on
one host means nothing on another.

On a tenant's host each page group (`team.roles.Area`) opens to the roles `team.roles` says: to view
for GET, HEAD and OPTIONS, to change for any other method; anything else is a 403 page, and so is a
page of no group to anyone but owners and admins. A page whose
URL names a conversation (`conversation_id`) answers 404 to a user whose accounts it is not on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django_tenants.utils import get_public_schema_name

from console.inbox import inbox_conversation_visible
from team.models import Membership
from team.roles import AREA_LABELS, UNPLACED_PAGE_ROLES, Access, Area, Role, access_needed, role_allows
from team.selectors import account_ids_visible_to, membership_of
from tenants.context import TenantRequest

View = Callable[..., HttpResponseBase]


def on_public_host(request: HttpRequest) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is None or tenant.schema_name == get_public_schema_name()


def may_use_console(request: HttpRequest, user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(getattr(user, "is_staff", False)) if on_public_host(request) else True


def login_url_for(request: HttpRequest) -> str:
    return f"{reverse('console:login')}?{urlencode({'next': request.get_full_path()})}"


def console_login_required(view: View) -> View:
    """The view for a console user of this host; others go to the login page.

    An htmx request whose session has ended is told to load the login page as a whole page
    (`HX-Redirect`) instead of swapping a login form into part of the page.
    """

    @wraps(view)
    def wrapped(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if may_use_console(request, request.user):
            return view(request, *args, **kwargs)
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login_url_for(request)
            return response
        return redirect(login_url_for(request))

    return wrapped


def area_forbidden(request: TenantRequest, area: Area | None, role: str) -> HttpResponse:
    """The 403 page: which role the user has, and that an owner or admin can change it."""
    context = {
        "section": area.value if area else "",
        "area": AREA_LABELS[area] if area else "this page",
        "role": Role(role).label,
        "may_view": area is not None and role_allows(role, area, Access.VIEW),
    }
    return render(request, "console/forbidden.html", context, status=403)


def _conversation_hidden(request: TenantRequest, kwargs: dict[str, Any], membership: Membership) -> bool:
    conversation_id = kwargs.get("conversation_id")
    if conversation_id is None or not membership.limited_to_accounts:
        return False
    account_ids = account_ids_visible_to(user_id=request.user.pk) or frozenset()
    return not inbox_conversation_visible(conversation_id=conversation_id, account_ids=account_ids)


def tenant_console_view(view: View | None = None, *, area: Area | str | None = None) -> Any:
    """A page of the tenant console: logged in, and only on a tenant's host (404 on the public one).

    With `area`, only for roles that open that area (to view on a read, to change otherwise); a 403
    page for the others. Without it, a page no area names yet: owners and admins only.
    """

    page_area = Area(area) if area is not None else None

    def decorate(view: View) -> View:
        @console_login_required
        @wraps(view)
        def wrapped(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if on_public_host(request):
                raise Http404("The tenant console is served on each workspace's own host.")
            membership = membership_of(user=request.user)
            role = membership.role
            if page_area is None:
                if role not in UNPLACED_PAGE_ROLES:
                    return area_forbidden(request, None, role)
            elif not role_allows(role, page_area, access_needed(request.method or "GET")):
                return area_forbidden(request, page_area, role)
            if _conversation_hidden(request, kwargs, membership):
                raise Http404("No such conversation in this workspace.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def platform_console_view(view: View) -> View:
    """A page of the platform console: platform staff, and only on the public host."""

    @console_login_required
    @wraps(view)
    def wrapped(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not on_public_host(request):
            raise Http404("The platform console is served on the public host.")
        return view(request, *args, **kwargs)

    return wrapped
