"""Lockout after failed sign-ins that an attacker cannot turn against everyone.

django-axes counts failures per combination of user name and client address (AXES_LOCKOUT_PARAMETERS):
five wrong passwords for a made-up name lock out that name from that address, nobody else. A user name
attacked from many addresses is locked on its own once its failures from all of them reach the higher
CCT_LOGIN_USERNAME_FAILURE_LIMIT (LockoutHandler).

Behind a proxy every request comes from the proxy's address, so the client's address is taken from
X-Forwarded-For, but only as far as the configured number of trusted proxies vouches for it
(client_address): anything a client writes into the header itself is further to the left and ignored.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone


def client_address(request: HttpRequest) -> str | None:
    """The client's address as the outermost of CCT_TRUSTED_PROXIES trusted proxies saw it.

    Each proxy appends the address it received the request from to X-Forwarded-For, and the last one is
    REMOTE_ADDR itself. With N trusted proxies the client is therefore the (N+1)th address from the right
    of X-Forwarded-For followed by REMOTE_ADDR. A request with fewer addresses than that did not pass
    through every proxy, so nothing in its header is trusted.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.CCT_TRUSTED_PROXIES
    if not proxies:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    chain = [*forwarded, remote]
    if len(chain) < proxies + 1:
        return remote
    return chain[-(proxies + 1)]


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, plus a lock on the user name alone at its own, higher limit."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        username = get_client_username(request, credentials)
        if username and self.username_failures(username) >= settings.CCT_LOGIN_USERNAME_FAILURE_LIMIT:
            # Reported as the combination's limit, so that axes locks and answers as for any lockout.
            return max(failures, settings.AXES_FAILURE_LIMIT)
        return failures

    @staticmethod
    def username_failures(username: str) -> int:
        since = timezone.now() - settings.AXES_COOLOFF_TIME
        attempts = AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
