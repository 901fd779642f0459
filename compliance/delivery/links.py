"""Links into the admin that e-mails and admin pages share (a leaf: it imports no other module here)."""

import datetime

from django.core import signing
from django.urls import reverse

from compliance.models import Alert, AnnualCap

ACK_SALT = "compliance.alert-acknowledgement"
# An alert's acknowledgement link works for this long after the e-mail.
ACK_MAX_AGE = datetime.timedelta(days=120)


def revision_start_url(cap: AnnualCap) -> str:
    """Where a warning about insufficient headroom sends the officer: a new revision of that cap."""
    return reverse("admin:compliance_caprevision_add") + f"?cap={cap.pk}"


# --- The signed link by which senior management acknowledges an alert (compliance.evidence.monitoring) ---------


def alert_ack_token(alert: Alert) -> str:
    return signing.TimestampSigner(salt=ACK_SALT).sign(str(alert.pk))


def alert_from_token(token: str) -> Alert:
    """The alert a link names; BadSignature (or SignatureExpired) for a forged, altered or stale link."""
    pk = signing.TimestampSigner(salt=ACK_SALT).unsign(token, max_age=ACK_MAX_AGE)
    return Alert.objects.select_related("cap__category").get(pk=int(pk))
