"""Console pages: the setup wizard that connects a WhatsApp number.

The same services as the API's wizard (`waba.services.wizard`, `waba.services.activation`): the
pages list the accounts being set up, show one form per step with the services' per-field
errors, and after going live the webhook settings to paste into Meta's App Dashboard. Beside the
manual path, "Connect with Facebook" (Embedded Signup, `waba.services.embedded_signup`) posts what
Facebook's window handed the page to `setup_embedded_signup`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from console.access import tenant_console_view
from console.setup_forms import STEP_FORMS
from platform_core.errors import DomainError
from tenants.context import TenantRequest
from waba import selectors
from waba.errors import AccountNotFound, SetupIncomplete
from waba.models import WhatsAppAccount
from waba.services import activation, embedded_signup, wizard
from waba.services.accounts import webhook_callback_url
from waba.services.credentials import secret_value
from waba.services.setup_steps import STEPS

LIVE_STATUSES = (WhatsAppAccount.Status.ACTIVE, WhatsAppAccount.Status.UNHEALTHY)


def _account(account_id: int) -> WhatsAppAccount:
    try:
        return selectors.account_get(account_id=account_id)
    except AccountNotFound:
        raise Http404("No such WhatsApp account here.") from None


def _progress_context(account: WhatsAppAccount, current: int | None = None) -> dict[str, Any]:
    progress = wizard.setup_progress(account=account)
    done = len(progress["completed_steps"])
    return {
        "account": account,
        "progress": progress,
        "current_step": current,
        "steps_done": done,
        "steps_total": len(STEPS),
        "percent_done": round(100 * done / len(STEPS)),
    }


def _next_page(account: WhatsAppAccount, progress: dict[str, Any]) -> str:
    if progress["next_step"] is None:
        return reverse("console:setup-finish", args=[account.pk])
    return reverse("console:setup-step", args=[account.pk, progress["next_step"]])


@tenant_console_view(area="setup")
def setup_index(request: TenantRequest) -> HttpResponse:
    """The accounts being set up with their progress, the connected ones, and a way to start."""
    in_setup, connected = [], []
    for account in selectors.accounts_list():
        if account.status == WhatsAppAccount.Status.DRAFT:
            in_setup.append(_progress_context(account))
        else:
            connected.append(account)
    context = {
        "section": "setup",
        "in_setup": in_setup,
        "connected": connected,
        "steps_total": len(STEPS),
        "embedded_signup": _embedded_signup_context(),
    }
    response = render(request, "console/setup/index.html", context)
    # Facebook's window (or the simulator's stand-in) talks back to this page through window.opener.
    response["Cross-Origin-Opener-Policy"] = "same-origin-allow-popups"
    return response


def _embedded_signup_context() -> dict[str, str] | None:
    """What the "Connect with Facebook" button needs, or None when the platform's app is not set up."""
    if not embedded_signup.embedded_signup_available():
        return None
    simulator_url = settings.EMBEDDED_SIGNUP_SIMULATOR_URL or settings.GRAPH_API_BASE_URL.rstrip("/")
    return {
        "mode": settings.EMBEDDED_SIGNUP_POPUP,
        "app_id": settings.META_APP_ID,
        "config_id": settings.META_EMBEDDED_SIGNUP_CONFIG_ID,
        "graph_version": settings.GRAPH_API_VERSION,
        "dialog_url": f"{simulator_url}/_signup/dialog",
    }


@tenant_console_view(area="setup")
@require_POST
def setup_embedded_signup(request: TenantRequest) -> HttpResponseBase:
    """Complete "Connect with Facebook" with the code and ids the page received from the window."""
    data = {name: request.POST.get(name, "") for name in ("code", "waba_id", "phone_number_id")}
    try:
        result = embedded_signup.embedded_signup_complete(data=data)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("console:setup")
    account = result.account
    name = account.display_name or f"Account {account.pk}"
    if not result.created and not result.phone_number_added:
        messages.info(request, f"{name} was already connected.")
    else:
        text = f"The number is added to {name} and live." if result.phone_number_added else f"{name} is connected and live."
        if result.pin:
            text += (
                f" Its number's two-step verification PIN is {result.pin}: keep it, Meta asks for it to "
                "register the number again. It is not shown again."
            )
        messages.success(request, text)
    return redirect("console:account", account.pk)


@tenant_console_view(area="setup")
@require_POST
def setup_start(request: TenantRequest) -> HttpResponseBase:
    account = wizard.setup_start(display_name=request.POST.get("display_name", ""))
    messages.success(request, "Setup started. Your progress is saved after each step.")
    return redirect("console:setup-step", account.pk, 1)


@tenant_console_view(area="setup")
def setup_resume(request: TenantRequest, account_id: int) -> HttpResponseBase:
    """Continue where the wizard was left: the first step not saved yet, or the last page."""
    account = _account(account_id)
    return redirect(_next_page(account, wizard.setup_progress(account=account)))


@tenant_console_view(area="setup")
@require_http_methods(["GET", "POST"])
def setup_step(request: TenantRequest, account_id: int, number: int) -> HttpResponseBase:
    account = _account(account_id)
    form_class = STEP_FORMS.get(number)
    if form_class is None:
        raise Http404("The wizard has six steps.")
    saved = wizard.setup_progress(account=account)["steps"][number - 1]["values"]
    if request.method == "POST":
        form = form_class(request.POST, saved=saved)
        if form.is_valid():
            try:
                wizard.setup_step_save(account=account, step=number, data=form.service_data())
            except DomainError as error:
                account.refresh_from_db()
                form.step_errors_apply(error)
            else:
                messages.success(request, f"Step {number} ({form.step.title}) saved.")
                return redirect(_next_page(account, wizard.setup_progress(account=account)))
    else:
        form = form_class(saved=saved)
    context = {
        "section": "setup",
        "form": form,
        "step": form.step,
        "previous_step": number - 1 if number > 1 else None,
        **_progress_context(account, current=number),
    }
    return render(request, "console/setup/step.html", context, status=422 if form.errors else 200)


@tenant_console_view(area="setup")
@require_http_methods(["GET", "POST"])
def setup_finish(request: TenantRequest, account_id: int) -> HttpResponseBase:
    """Before going live: what is missing and the button that goes live. Once live: the webhook
    settings to paste into Meta's App Dashboard (the verify token is shown here, and only here)."""
    account = _account(account_id)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            result = activation.setup_complete(account=account)
        except DomainError as failure:
            account.refresh_from_db()
            error = failure
        else:
            messages.success(request, _went_live_message(result))
            return redirect("console:setup-finish", account.pk)
    live = account.status in LIVE_STATUSES
    context = {
        "section": "setup",
        "error": error,
        "unfinished": error.details if isinstance(error, SetupIncomplete) else [],
        "live": live,
        "callback_url": webhook_callback_url(app_id=account.app_id) if account.app_id else "",
        "verify_token": secret_value(account.webhook_verify_token) if live else "",
        "subscribed_fields": account.subscribed_fields or [],
        "via_facebook": embedded_signup.embedded_signup_connected(account=account),
        **_progress_context(account),
    }
    return render(request, "console/setup/finish.html", context, status=422 if error else 200)


def _went_live_message(result: activation.SetupResult) -> str:
    name = result.account.display_name or f"Account {result.account.pk}"
    if result.templates.error_code:
        return (
            f"{name} is live. Its message templates could not be imported yet ({result.templates.error_message}); "
            "they are imported again automatically."
        )
    total = result.templates.counts.get("total", 0)
    return f"{name} is live. {total} message template{'' if total == 1 else 's'} imported from Meta."


urlpatterns = [
    path("setup/", setup_index, name="setup"),
    path("setup/start/", setup_start, name="setup-start"),
    path("setup/embedded-signup/", setup_embedded_signup, name="setup-embedded-signup"),
    path("setup/<int:account_id>/", setup_resume, name="setup-resume"),
    path("setup/<int:account_id>/step/<int:number>/", setup_step, name="setup-step"),
    path("setup/<int:account_id>/finish/", setup_finish, name="setup-finish"),
]
