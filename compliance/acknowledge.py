"""Senior management acknowledges a cap alert from the signed link in the alert's e-mail.

The link names the alert with a signature (compliance.evidence.monitoring), so nobody can acknowledge an alert
by guessing a number; who acknowledges is the signed-in user (the link leads through the sign-in page).
Following the link shows the alert; only pressing the button records the acknowledgement, so a mail
scanner that opens links records nothing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from compliance.evidence.monitoring import alert_acknowledge, alert_from_token, may_acknowledge
from compliance.models import Alert, AlertAcknowledgement


@require_http_methods(["GET", "POST"])
@login_required(login_url="admin:login")
def acknowledge_alert(request: HttpRequest, token: str) -> HttpResponse:
    try:
        alert = alert_from_token(token)
    except (signing.BadSignature, Alert.DoesNotExist, ValueError):
        raise Http404(_("This acknowledgement link is not valid or has expired.")) from None
    if request.method == "POST":
        try:
            acknowledgement, created = alert_acknowledge(alert=alert, user=request.user, via="link")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if created:
                messages.success(request, _("Alert acknowledged."))
            else:
                messages.warning(request, _("This alert was already acknowledged; nothing was changed."))
        return redirect(request.path)
    acknowledgement = AlertAcknowledgement.objects.select_related("acknowledged_by").filter(alert=alert).first()
    return render(
        request,
        "compliance/acknowledge_alert.html",
        {
            "alert": alert,
            "acknowledgement": acknowledgement,
            "may_acknowledge": may_acknowledge(request.user),
            "title": _("Acknowledge a cap alert"),
        },
    )
