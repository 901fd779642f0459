"""Recording alerts: each threshold a cap's actual or committed amount has reached, once, with the day it
was first reached; the e-mail is queued after the commit.
"""

from django.db import transaction

from compliance.common import queue
from compliance.models import Alert, AnnualCap
from compliance.rules.crossings import first_day_reaching
from compliance.rules.selectors import alert_thresholds, caps_with_utilisation
from transactions.models import PurchaseOrder

# --- Alerts ---------------------------------------------------------------------------------------


def alerts_record(
    *, cap_ids: list[int], triggered_by: PurchaseOrder | None = None, caps: list[AnnualCap] | None = None
) -> list[Alert]:
    """Record an alert for every threshold a cap's actual or committed amount has reached and that
    has no alert yet, with `reached_on`: the business date at which the entries first reached it.
    Idempotent: the unique constraint (cap, threshold, basis) makes a concurrent second recording a
    no-op. Returns the alerts created by this call."""
    if not cap_ids:
        return []
    if caps is None:
        caps = list(caps_with_utilisation(AnnualCap.objects.filter(pk__in=cap_ids)))
    thresholds = alert_thresholds()
    before = {
        (cap_id, threshold, basis): pk
        for pk, cap_id, threshold, basis in Alert.objects.filter(cap_id__in=cap_ids).values_list(
            "pk", "cap_id", "threshold", "basis"
        )
    }
    wanted = []
    for cap in caps:
        for basis, used, pct in (
            (Alert.Basis.ACTUAL, cap.actual, cap.actual_pct),
            (Alert.Basis.COMMITTED, cap.committed, cap.committed_pct),
        ):
            for threshold in thresholds:
                # Compare exactly, not the rounded percentage: 79.996% has not reached 80%.
                if used * 100 >= threshold * cap.amount and (cap.pk, threshold, basis) not in before:
                    wanted.append(
                        Alert(
                            cap=cap,
                            threshold=threshold,
                            basis=basis,
                            utilisation_pct=pct,
                            used_amount=used,
                            cap_amount=cap.amount,
                            triggered_by=triggered_by,
                            reached_on=first_day_reaching(cap.pk, basis, threshold * cap.amount / 100),
                        )
                    )
    if not wanted:
        return []
    Alert.objects.bulk_create(wanted, ignore_conflicts=True)
    keys = {(a.cap_id, a.threshold, a.basis) for a in wanted}
    created = [
        alert
        for alert in Alert.objects.filter(cap_id__in={a.cap_id for a in wanted}).exclude(pk__in=before.values())
        if (alert.cap_id, alert.threshold, alert.basis) in keys
    ]
    # The e-mail goes out after the change commits; if the queue is unreachable, the sweep sends it.
    ids = [alert.pk for alert in created]
    transaction.on_commit(lambda: queue.enqueue("alert", ids))
    return created
