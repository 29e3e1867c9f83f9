"""Signing in to the admin: the client address failed sign-ins count against, the page a
locked-out sign-in gets (both for django-axes), and the one-time code Reviewers give too
when ``settings.REQUIRE_2FA_FOR_REVIEWERS`` is on (django-otp).
"""

import ipaddress
import math

from django import forms
from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.forms import OTPAuthenticationFormMixin
from rest_framework.throttling import BaseThrottle

REVIEWERS = "Reviewers"


def client_address(request):
    """The client as the proxies in front saw it, by the API rate limit's own rule
    (REST_FRAMEWORK's NUM_PROXIES), or None when that is no address at all."""
    address = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def locked_out(request, response, credentials):
    """The lockout page, in the admin's look (django-axes' AXES_LOCKOUT_CALLABLE)."""
    context = {
        **admin.site.each_context(request),
        "title": _("Sign-in locked"),
        "minutes": math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
    }
    return render(request, "admin/locked_out.html", context, status=429)


def needs_second_factor(user):
    return settings.REQUIRE_2FA_FOR_REVIEWERS and (
        user.is_superuser or user.groups.filter(name=REVIEWERS).exists()
    )


class SecondFactorLoginForm(OTPAdminAuthenticationForm):
    """The admin's sign-in form while Reviewers need a second factor: their password and a
    code from their device; everyone else's password alone."""

    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": _("Enter the one-time code from your authenticator app."),
        "invalid_token": _("That one-time code is wrong or has expired: enter the current one."),
    }
    otp_device = forms.CharField(required=False, label=_("Device"), widget=forms.Select)
    otp_token = forms.CharField(
        required=False,
        label=_("One-time code"),
        help_text=_("Reviewers: the code your authenticator app shows. Editors leave it empty."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_otp(self, user):
        if user is None or not needs_second_factor(user):
            return
        devices = list(devices_for_user(user))
        if not devices:
            raise forms.ValidationError(
                _(
                    "You have no authenticator device yet: ask an administrator to add one "
                    "for you before you sign in."
                ),
                code="no_device",
            )
        # django-otp asks which device the code is from; with one there is nothing to ask.
        if len(devices) == 1 and not self.cleaned_data.get("otp_device"):
            self.cleaned_data["otp_device"] = devices[0].persistent_id
        super().clean_otp(user)


class TrackerAdminSite(admin.AdminSite):
    """The admin. With ``REQUIRE_2FA_FOR_REVIEWERS`` on, a Reviewer (or superuser) whose
    session was not verified by a one-time code is treated as not staff, as django-otp's
    OTPAdminSite treats everyone; with it off this is Django's own site."""

    @property
    def login_form(self):
        return SecondFactorLoginForm if settings.REQUIRE_2FA_FOR_REVIEWERS else None

    @property
    def login_template(self):
        return "admin/login_second_factor.html" if settings.REQUIRE_2FA_FOR_REVIEWERS else None

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        return not needs_second_factor(request.user) or request.user.is_verified()
