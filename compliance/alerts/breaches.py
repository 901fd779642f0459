"""Breaches of annual caps as records: opened with the change that took a cap over its amount, then
announced and re-complied with.

- Opening: compliance.caps.ledger.cap_figures_changed calls breaches_record in the transaction of every change
  to a cap's figures (approval, cancellation, invoice, credit note, rate correction, a revision taking
  effect) with the caps' totals locked, and the threshold sweep calls it as the safety net. A cap whose
  committed or actual amount is above its amount, with no open breach, gets one, unless the excess is
  the one a closed breach already recorded (used no higher than then): re-compliance closes a breach,
  and only a further rise above the cap opens the next. At most one open breach per cap (a partial
  unique constraint); the breach is the outbox row of its e-mail, queued after the commit.
- `detected_on` is the business date on which the cap's entries, in date order, first went above the
  amount in force that day (and above what the previous breach recorded): the date of the document
  that took the cap over, as alerts' `reached_on` is.
- Steps: `announced_on` (the announcement of the breach), then `recomplied_on` (re-compliance recorded:
  the revised cap approved as its tier requires). Each once, in that order, on or after the breach's
  day and not in the future, with who recorded it.
"""

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.common import queue
from compliance.common.dates import day_in_words as _day
from compliance.models import AnnualCap, Breach, CapRevision, LedgerEntry
from transactions.errors import Refusal
from transactions.money import ZERO

if TYPE_CHECKING:
    from transactions.users import User

STEPS = ("announced_on", "recomplied_on")
REFERENCES = ("announcement_ref",)


# --- Opening ------------------------------------------------------------------------------------


def _first_day_above(cap: AnnualCap, beyond: Decimal) -> datetime.date | None:
    """The first business date on which the larger of committed and actual went above both the amount
    in force that day and `beyond` (two queries)."""
    days: dict[datetime.date, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for index, basis in enumerate((LedgerEntry.Basis.COMMITTED, LedgerEntry.Basis.ACTUAL)):
        rows = (
            LedgerEntry.objects.filter(cap_id=cap.pk, basis=basis)
            .order_by("entry_date")
            .values("entry_date")
            .annotate(day=Sum("amount"))
            .values_list("entry_date", "day")
        )
        for day, amount in rows:
            days[day][index] += amount
    revisions = list(
        CapRevision.objects.filter(cap_id=cap.pk, status=CapRevision.Status.COMPLETED, effective_on__isnull=False)
        .order_by("effective_on", "completed_at", "id")
        .values_list("effective_on", "previous_amount", "new_amount")
    )
    committed = actual = ZERO
    for day in sorted(days):
        committed += days[day][0]
        actual += days[day][1]
        amount = revisions[0][1] if revisions else cap.amount
        for effective_on, _previous, new_amount in revisions:
            if effective_on <= day:
                amount = new_amount
        if max(committed, actual) > max(amount, beyond):
            return day
    return None


def breaches_record(*, caps: list[AnnualCap], triggered_by=None) -> list[Breach]:
    """Open a breach for each cap (from caps_with_utilisation, its totals locked by the caller) that is
    above its amount with no open breach and a higher use than any closed breach recorded. Runs in the
    transaction of the change; the e-mail is queued after the commit. Returns the breaches opened."""
    over = [cap for cap in caps if cap.used > cap.amount]
    if not over:
        return []
    latest: dict[int, Breach] = {}
    for breach in Breach.objects.filter(cap_id__in=[cap.pk for cap in over]).order_by("cap_id", "-id"):
        latest.setdefault(breach.cap_id, breach)
    opened = []
    for cap in over:
        previous = latest.get(cap.pk)
        if previous is not None and (previous.is_open or cap.used <= previous.used_amount):
            continue
        beyond = previous.used_amount if previous is not None else ZERO
        basis = Breach.Basis.ACTUAL if cap.actual >= cap.committed else Breach.Basis.COMMITTED
        opened.append(
            Breach.objects.create(
                cap=cap,
                detected_on=_first_day_above(cap, beyond) or timezone.localdate(),
                basis=basis,
                currency=cap.category.currency,
                cap_amount=cap.amount,
                used_amount=cap.used,
                amount_over=cap.used - cap.amount,
                triggered_by=triggered_by,
            )
        )
    if opened:
        ids = [breach.pk for breach in opened]
        transaction.on_commit(lambda: queue.enqueue("breach", ids))
    return opened


# --- Steps --------------------------------------------------------------------------------------


def breach_steps_check(breach: Breach, *, today: datetime.date | None = None) -> None:
    """The announcement, then re-compliance; each on or after the breach's day, not in the future."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    for step in STEPS:
        value = getattr(breach, step)
        if value is None:
            continue
        if value > today:
            errors[step] = _("A step is recorded once it has happened: %(day)s is in the future.") % {
                "day": _day(value)
            }
        elif value < breach.detected_on:
            errors[step] = _("The breach was detected on %(day)s; a step of it cannot come before.") % {
                "day": _day(breach.detected_on)
            }
    if breach.recomplied_on is not None and "recomplied_on" not in errors:
        if breach.announced_on is None:
            errors["recomplied_on"] = _("Record the announcement of the breach first (announced_on).")
        elif breach.recomplied_on < breach.announced_on:
            errors["recomplied_on"] = _("Re-compliance comes after the announcement of %(day)s, not before.") % {
                "day": _day(breach.announced_on)
            }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def breach_record_steps(*, breach_id: int, user: "User", **steps: datetime.date | str | None) -> Breach:
    """Record the announcement (`announced_on`, with `announcement_ref`) and re-compliance (`recomplied_on`)
    of a breach. A step already recorded is not recorded again; a re-complied breach is closed."""
    unknown = set(steps) - set(STEPS) - set(REFERENCES)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    given = {step: value for step, value in steps.items() if step in STEPS and value is not None}
    if not given:
        raise ValidationError(
            {"announced_on": _("Give the date of the announcement, or of re-compliance (recomplied_on).")}
        )
    breach = Breach.objects.select_for_update().select_related("cap__category").get(pk=breach_id)
    if not breach.is_open:
        raise Refusal(
            "breach_closed",
            _("This breach was re-complied with on %(day)s; it is closed.") % {"day": _day(breach.recomplied_on)},
        )
    for step, value in given.items():
        recorded = getattr(breach, step)
        if recorded is not None and recorded != value:
            raise Refusal(
                "breach_step_recorded",
                (
                    _("The announcement of this breach is already recorded, on %(day)s.")
                    if step == "announced_on"
                    else _("The re-compliance of this breach is already recorded, on %(day)s.")
                )
                % {"day": _day(recorded)},
            )
        setattr(breach, step, value)
    if "announcement_ref" in steps:
        breach.announcement_ref = (steps["announcement_ref"] or "").strip()
    breach_steps_check(breach)
    now = timezone.now()
    if breach.announced_on is not None and breach.announced_by_id is None:
        breach.announced_by, breach.announced_at = user, now
    if breach.recomplied_on is not None and breach.recomplied_by_id is None:
        breach.recomplied_by, breach.recomplied_at = user, now
    breach.status = (
        Breach.Status.RECOMPLIED
        if breach.recomplied_on is not None
        else Breach.Status.ANNOUNCED
        if breach.announced_on is not None
        else Breach.Status.OPEN
    )
    breach._history_user = user
    breach.save()
    return breach


# --- Reads --------------------------------------------------------------------------------------


def breach_list() -> QuerySet[Breach]:
    return Breach.objects.select_related(
        "cap__category__agreement", "triggered_by", "announced_by", "recomplied_by"
    ).prefetch_related("deliveries")


def open_breaches() -> list[Breach]:
    """Every breach not yet re-complied with, oldest first (one query)."""
    return list(
        Breach.objects.filter(status__in=[Breach.Status.OPEN, Breach.Status.ANNOUNCED])
        .select_related("cap__category__agreement")
        .order_by("detected_on", "id")
    )


def report_breaches(*, start: datetime.date, end: datetime.date) -> list[Breach]:
    """The breaches a report of start..end shows: those detected in it, and those detected before its end
    and still open at its end or now (one query)."""
    return list(
        Breach.objects.filter(detected_on__lte=end)
        .filter(
            Q(detected_on__gte=start)
            | Q(status__in=[Breach.Status.OPEN, Breach.Status.ANNOUNCED])
            | Q(recomplied_on__gt=end)
        )
        .select_related("cap__category__agreement", "announced_by", "recomplied_by")
        .order_by("detected_on", "id")
    )
