"""The user's language: chosen with the switcher in the admin's header and kept on the user
(accounts.Preference), else the browser's Accept-Language (zh-hk and zh-tw read Traditional Chinese,
zh-cn Simplified; Django's LocaleMiddleware). The choice is copied into the session at sign-in, so
reading it costs no query per request."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .models import Preference

if TYPE_CHECKING:
    from transactions.users import User

SESSION_KEY = "cct_language"
CODES = {code for code, _name in settings.LANGUAGES}


@receiver(user_logged_in)
def _remember_on_sign_in(sender, request, user: "User", **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        chosen = Preference.objects.filter(user=user).values_list("language", flat=True).first()
        request.session[SESSION_KEY] = chosen or ""


class UserLanguageMiddleware:
    """After authentication: a signed-in user's chosen language wins over the browser's."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if chosen in CODES and request.user.is_authenticated:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return self.get_response(request)


@require_POST
def set_language(request: HttpRequest):
    """Keep the chosen language on the user (or, empty, follow the browser again) and go back."""
    language = request.POST.get("language", "")
    if language and language not in CODES:
        return HttpResponseBadRequest(f"Unknown language {language!r}; choose one of {', '.join(sorted(CODES))}.")
    if not request.user.is_authenticated:
        return HttpResponseBadRequest("Sign in to choose a language.")
    Preference.objects.update_or_create(user=request.user, defaults={"language": language})
    request.session[SESSION_KEY] = language
    target = request.POST.get("next") or "/admin/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/admin/"
    return HttpResponseRedirect(target)
