"""Who gets in, and for how long: the admin's sign-in form with an optional second factor (TOTP,
django-otp), two-factor enforcement for the compliance role, the setting-up of an authenticator,
and the absolute lifetime of a session (the idle timeout is SESSION_COOKIE_AGE).

Lockout after repeated failed sign-ins is django-axes' (settings: AXES_*).
"""

import base64
import datetime
import io
from typing import TYPE_CHECKING

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from transactions.permissions import has_any_role

if TYPE_CHECKING:
    from transactions.users import RequestUser, User

LOGIN_AT = "cct_login_at"
TWO_FACTOR_ROLE = "compliance"


def two_factor_required(user: "RequestUser") -> bool:
    """Whether this user must sign in with a second factor (CCT_REQUIRE_TWO_FACTOR_FOR_COMPLIANCE)."""
    return (
        settings.CCT_REQUIRE_TWO_FACTOR_FOR_COMPLIANCE
        and user.is_authenticated
        and user.groups.filter(name=TWO_FACTOR_ROLE).exists()
    )


class SignInForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """Username and password, then the authenticator's code for users who have one set up.

    Lets in every active user with a role, not only those with the staff flag.
    """

    otp_device = forms.CharField(required=False, widget=forms.Select)
    otp_token = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}))
    otp_challenge = forms.CharField(required=False)

    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": _("Enter the 6-digit code from your authenticator app."),
        "invalid_token": _("That code is not right, or has expired. Enter the current code."),
    }

    def confirm_login_allowed(self, user: "User") -> None:
        if not has_any_role(user) and not user.is_staff:
            super().confirm_login_allowed(user)
        elif not user.is_active:
            raise ValidationError(self.error_messages["inactive"], code="inactive")

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and user_has_device(user, confirmed=True):
            self.clean_otp(user)
        return cleaned

    def _chosen_device(self, user: "User"):
        # With a single authenticator there is nothing to choose.
        device = super()._chosen_device(user)
        if device is None:
            devices = list(TOTPDevice.objects.devices_for_user(user, confirmed=True))
            device = devices[0] if len(devices) == 1 else None
        return device


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the app"), max_length=8, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"})
    )


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@login_required(login_url="admin:login")
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator (scan, then confirm with a code), or confirm this session with one."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = confirmed or TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            if not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, gettext("Two-factor sign-in is set up and this session is verified."))
            return HttpResponseRedirect(request.GET.get("next") or reverse("admin:index"))
        form.add_error("token", gettext("That code is not right, or has expired. Enter the current code."))
    context = {
        **admin.site.each_context(request),  # the site's own title and header, in the reader's language
        "form": form,
        "setting_up": not device.confirmed,
        "qr": mark_safe(_qr_svg(device.config_url)) if not device.confirmed else "",  # noqa: S308 - our own SVG
        "secret": base64.b32encode(device.bin_key).decode() if not device.confirmed else "",
        "required": two_factor_required(user),
        "title": gettext("Two-factor sign-in"),
    }
    return render(request, "accounts/two_factor.html", context)


class AccessMiddleware:
    """After authentication: end sessions older than CCT_SESSION_MAX_HOURS, and keep a compliance user
    who must use two factors and has not yet verified this session on the two-factor page."""

    exempt_prefixes = ("/static/", "/healthz", "/account/two-factor/", "/admin/logout/", "/admin/login/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            started = request.session.get(LOGIN_AT)
            lifetime = datetime.timedelta(hours=settings.CCT_SESSION_MAX_HOURS)
            if started and timezone.now() - datetime.datetime.fromisoformat(started) > lifetime:
                logout(request)
                return HttpResponseRedirect(f"{reverse('admin:login')}?next={request.path}")
            if (
                not request.path.startswith(self.exempt_prefixes)
                and not user.is_verified()
                and two_factor_required(user)
            ):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {
                            "code": "two_factor_required",
                            "detail": gettext("Verify this session with your authenticator first."),
                        },
                        status=403,
                    )
                return HttpResponseRedirect(f"{reverse('two-factor')}?next={request.path}")
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="cct_login_at")
def remember_login_time(sender, request, user: "User", **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT] = timezone.now().isoformat()
