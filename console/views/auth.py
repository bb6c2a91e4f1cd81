"""Logging in and out, and changing one's password, on either console."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.http import HttpResponse
from django.urls import path, reverse_lazy

from console.access import console_login_required, on_public_host


class ConsoleAuthenticationForm(AuthenticationForm):
    """Django's login form; on the public host only platform staff get in."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_staff": "This account may not use the platform console.",
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if self.request is not None and on_public_host(self.request) and not user.is_staff:
            raise forms.ValidationError(self.error_messages["not_staff"], code="not_staff")


class ConsoleLoginView(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = ConsoleAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return str(reverse_lazy("console:home"))


class ConsolePasswordChangeView(auth_views.PasswordChangeView):
    template_name = "console/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("console:home")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password was changed.")
        return response


urlpatterns = [
    path("login/", ConsoleLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page=reverse_lazy("console:login")), name="logout"),
    path("password/", console_login_required(ConsolePasswordChangeView.as_view()), name="password-change"),
]
