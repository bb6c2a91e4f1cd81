"""Pages of the tenants app on a tenant's host: setting a password from an invitation link."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from tenants.context import TenantRequest
from tenants.errors import InvitationGone, InvitationNotFound
from tenants.invitations import invitation_accept, invitation_find, invitation_user


def _refused(request: TenantRequest, error: InvitationNotFound | InvitationGone) -> HttpResponse:
    context = {"message": error.message, "tenant": request.tenant}
    return render(request, "tenants/invitation_invalid.html", context, status=error.status)


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: TenantRequest, token: str) -> HttpResponse:
    """GET: the set-password form. POST: the password (Django's validators) sets it, spends the link and
    leads to the console's login; a refused password shows the form again with the validators' messages."""
    try:
        invitation = invitation_find(tenant=request.tenant, token=token)
        user = invitation_user(invitation=invitation)
    except (InvitationNotFound, InvitationGone) as error:
        return _refused(request, error)
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation_accept(tenant=request.tenant, token=token, password=form.cleaned_data["new_password1"])
        except (InvitationNotFound, InvitationGone) as error:  # spent by a concurrent request
            return _refused(request, error)
        return redirect(f"{reverse('console:login')}?{urlencode({'next': reverse('console:home')})}")
    context = {"form": form, "username": invitation.username, "tenant": request.tenant}
    return render(request, "tenants/invitation.html", context)
