"""Links into the admin that e-mails and admin pages share (a leaf: it imports no other module here)."""

from django.urls import reverse

from .models import AnnualCap


def revision_start_url(cap: AnnualCap) -> str:
    """Where a warning about insufficient headroom sends the officer: a new revision of that cap."""
    return reverse("admin:compliance_caprevision_add") + f"?cap={cap.pk}"
