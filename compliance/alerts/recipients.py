"""Who receives alerts: distribution lists and the thresholds they follow."""

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from compliance.alerts.recording import (
    alerts_record as alerts_record,  # re-exported: checks and callers record alerts here
)
from compliance.models import AlertThreshold, DistributionList
from transactions.errors import Refusal
from transactions.services import assign_fields

if TYPE_CHECKING:
    from transactions.users import User

# --- Distribution lists ---------------------------------------------------------------------------

LIST_FIELDS = (
    "name", "description", "member_emails", "thresholds", "monthly_report", "headroom_warnings", "quote_rule_report",
    "term_warnings",
)  # fmt: skip


@transaction.atomic
def distribution_list_save(
    *, user: "User", distribution_list: DistributionList | None = None, **fields: Any
) -> DistributionList:
    """Create or change a named list, its addresses (replacing them when given) and its thresholds."""
    distribution_list = distribution_list or DistributionList()
    emails = fields.pop("member_emails", None)
    thresholds = fields.pop("thresholds", None)
    assign_fields(distribution_list, fields, LIST_FIELDS)
    distribution_list.full_clean()
    distribution_list._history_user = user
    distribution_list.save()
    if thresholds is not None:
        distribution_list.thresholds.set(thresholds)
    if emails is not None:
        wanted = {email.lower() for email in emails}
        distribution_list.members.exclude(email__in=wanted).delete()
        present = set(distribution_list.members.values_list("email", flat=True))
        for email in sorted(wanted - present):
            distribution_list.members.create(email=email)
    return distribution_list


def alert_threshold_delete(*, threshold_id: int, user: "User") -> None:
    """Delete a threshold nobody receives alerts for. While distribution lists take its alerts it is
    refused: deleting it would silently take them off those alerts (the default threshold, 80%, is
    alerted at whether or not its row exists)."""
    with transaction.atomic():
        threshold = AlertThreshold.objects.select_for_update().get(pk=threshold_id)
        subscribed = list(
            DistributionList.objects.filter(thresholds=threshold).order_by("name").values_list("name", flat=True)
        )
        if subscribed:
            raise Refusal(
                "threshold_in_use",
                _(
                    "The %(percent)s%% threshold cannot be deleted: the distribution lists %(lists)s receive its "
                    "alerts. Take it off those lists first."
                )
                % {"percent": threshold.percent, "lists": ", ".join(f"“{name}”" for name in subscribed)},
            )
        threshold._history_user = user
        threshold.delete()
