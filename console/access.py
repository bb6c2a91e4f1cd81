"""Who may open the console on this host: any active user of the tenant's own schema on a tenant's
host, the public schema's staff on the public host. Users live per schema, so a session made on
one host means nothing on another."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django_tenants.utils import get_public_schema_name

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


def tenant_console_view(view: View) -> View:
    """A page of the tenant console: logged in, and only on a tenant's host (404 on the public one)."""

    @console_login_required
    @wraps(view)
    def wrapped(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if on_public_host(request):
            raise Http404("The tenant console is served on each workspace's own host.")
        return view(request, *args, **kwargs)

    return wrapped


def platform_console_view(view: View) -> View:
    """A page of the platform console: platform staff, and only on the public host."""

    @console_login_required
    @wraps(view)
    def wrapped(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not on_public_host(request):
            raise Http404("The platform console is served on the public host.")
        return view(request, *args, **kwargs)

    return wrapped
