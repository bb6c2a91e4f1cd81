"""Console pages: the workspace's team (owners and admins). Everyone with their role and, for agents,
their accounts; invite someone with a role (their link is shown once); change a role or an agent's
accounts; deactivate or reactivate. The rules (who may make owners, the last owner) are
`team.services`'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from console.access import tenant_console_view
from platform_core.errors import DomainError
from team import services
from team.roles import ROLE_HELP, Role
from team.selectors import membership_of, team_members
from tenants.context import TenantRequest
from waba.models import WhatsAppAccount


class _AccountChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name or obj.waba_id or f"Account {obj.pk}"


def _role_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Role",
        choices=[(role.value, f"{role.label}: {ROLE_HELP[role]}") for role in Role],
        widget=forms.RadioSelect,
        initial=Role.AGENT,
    )


def _accounts_field() -> _AccountChoice:
    return _AccountChoice(
        label="WhatsApp accounts",
        queryset=WhatsAppAccount.objects.order_by("display_name", "pk"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For agents: the accounts whose conversations they answer. Other roles see every account.",
    )


class MemberForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"] = _role_field()
        self.fields["accounts"] = _accounts_field()


class InviteForm(MemberForm):
    username = forms.CharField(label="User name", max_length=150)
    email = forms.EmailField(label="E-mail address", required=False)

    field_order = ["username", "email", "role", "accounts"]


def _error_apply(form: forms.Form, error: DomainError) -> None:
    fields = [item.get("field") for item in error.details or [] if isinstance(item, dict)]
    field = fields[0] if fields and fields[0] in form.fields else None
    form.add_error(field, error.message)


def _page(request: TenantRequest, form: InviteForm, status: int = 200) -> HttpResponse:
    context = {"section": "team", "members": team_members(), "form": form, "me": request.user.pk}
    return render(request, "console/team/index.html", context, status=status)


def _member(user_id: int) -> Any:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise Http404("No such person in this workspace.")
    return user


@tenant_console_view(area="team")
def team(request: TenantRequest) -> HttpResponse:
    return _page(request, InviteForm())


@never_cache
@tenant_console_view(area="team")
@require_POST
def member_invite(request: TenantRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    try:
        issued = services.member_invite(
            tenant=request.tenant,
            actor=request.user,
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            account_ids=[account.pk for account in form.cleaned_data["accounts"]],
        )
    except DomainError as error:
        _error_apply(form, error)
        return _page(request, form, status=error.status)
    context = {"section": "team", "issued": issued, "role": Role(form.cleaned_data["role"]).label}
    return render(request, "console/team/invited.html", context)


def _member_form(user: Any) -> MemberForm:
    membership = membership_of(user=user)
    accounts = list(membership.accounts.all()) if membership.pk else []
    return MemberForm(initial={"role": membership.role, "accounts": accounts})


def _member_page(
    request: TenantRequest, user: Any, form: MemberForm, status: int = 200, refusal: str = ""
) -> HttpResponse:
    context = {
        "section": "team",
        "member": user,
        "membership": membership_of(user=user),
        "form": form,
        "refusal": refusal,
        "me": request.user.pk,
    }
    return render(request, "console/team/member.html", context, status=status)


@tenant_console_view(area="team")
def member_detail(request: TenantRequest, user_id: int) -> HttpResponse:
    user = _member(user_id)
    if request.method != "POST":
        return _member_page(request, user, _member_form(user))
    form = MemberForm(request.POST)
    if not form.is_valid():
        return _member_page(request, user, form, status=422)
    try:
        services.member_update(
            actor=request.user,
            user_id=user.pk,
            role=form.cleaned_data["role"],
            account_ids=[account.pk for account in form.cleaned_data["accounts"]],
        )
    except DomainError as error:
        _error_apply(form, error)
        return _member_page(request, user, form, status=error.status)
    messages.success(
        request, f"{user.get_username()} is now {Role(form.cleaned_data['role']).label.lower()}."
    )
    return redirect("console:team")


@tenant_console_view(area="team")
@require_POST
def member_active(request: TenantRequest, user_id: int) -> HttpResponseBase:
    user = _member(user_id)
    active = request.POST.get("active") == "1"
    try:
        membership = services.member_active_set(actor=request.user, user_id=user.pk, active=active)
    except DomainError as error:
        return _member_page(request, user, _member_form(user), status=error.status, refusal=error.message)
    name = membership.user.get_username()
    messages.success(
        request, f"{name} is {'reactivated' if active else 'deactivated: they can no longer log in'}."
    )
    return redirect("console:team")


urlpatterns: list[URLPattern] = [
    path("team/", team, name="team"),
    path("team/invite/", member_invite, name="team-invite"),
    path("team/<int:user_id>/", member_detail, name="team-member"),
    path("team/<int:user_id>/active/", member_active, name="team-member-active"),
]
