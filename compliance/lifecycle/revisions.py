"""Cap revisions: re-compliance before a cap is exceeded.

A revision is proposed with its reason and new amount. Its classification (the stricter of the
category's and, aggregated, the connected person's, with the new amount; compliance.rules.classification)
says which steps it needs (compliance.rules.recompliance): the board's approval always; an announcement
unless it is fully exempt; the circular, the independent financial adviser's letter and the
independent shareholders' approval where the tier requires them. Until every required step is
recorded the old amount governs every gate. When the last one is recorded, the new amount becomes
the cap's amount in the same transaction, and the cap's history keeps both values with the revision
as the reason for the change.

A revision proposed, or completed, when the cap's committed or actual amount was already above the
cap is still recorded and flagged as a breach: re-compliance after the event does not undo it.

Locks: the category row, then the revision row. Approvals lock the same category row, so an approval
and the completion of a revision of one of its caps run one after the other.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.caps.ledger import cap_figures_changed, totals_lock
from compliance.models import AnnualCap, CapRevision
from compliance.rules.classification import cap_revision_classification
from compliance.rules.recompliance import (  # noqa: F401  (the steps' names are part of this module's interface)
    ADVISER,
    ANNOUNCEMENT,
    BOARD,
    CIRCULAR,
    REFERENCES,
    SHAREHOLDERS,
    STEP_LABELS,
    STEPS,
    required_steps,
    steps_check,
    steps_outstanding,
)
from compliance.rules.selectors import caps_with_utilisation
from transactions.errors import Refusal
from transactions.models import TransactionCategory
from transactions.money import format_money

if TYPE_CHECKING:
    from transactions.users import User

# --- Checks (shared by the admin forms and the services) -----------------------------------------


def cap_revision_check(revision: CapRevision) -> None:
    """A proposal says why, raises the cap, and is the only pending revision of its cap."""
    errors: dict[str, str] = {}
    if not (revision.reason or "").strip():
        errors["reason"] = _("Say why the cap needs revising, e.g. the forecast of the remaining months.")
    cap = revision.cap if revision.cap_id else None
    if cap is not None and revision.new_amount is not None and revision.new_amount <= cap.amount:
        errors["new_amount"] = _("A revision raises the cap: enter more than its current %(amount)s.") % {
            "amount": format_money(cap.amount, cap.category.currency)
        }
    if cap is not None and (
        CapRevision.objects.filter(cap=cap, status=CapRevision.Status.PENDING).exclude(pk=revision.pk).exists()
    ):
        errors["cap"] = _("A revision of this cap is already pending: record its steps or withdraw it first.")
    if errors:
        raise ValidationError(errors)


def cap_revision_steps_check(revision: CapRevision, *, today: datetime.date | None = None) -> None:
    """Steps are recorded once they have happened, and in their order (compliance.rules.recompliance)."""
    steps_check(revision, today=today)


# --- Services -----------------------------------------------------------------------------------


def _lock_category(category_id: int) -> None:
    TransactionCategory.objects.select_for_update().only("pk").get(pk=category_id)


def _with_utilisation(cap_id: int) -> AnnualCap:
    return caps_with_utilisation(AnnualCap.objects.filter(pk=cap_id)).get()


def _classify(revision: CapRevision) -> None:
    result = cap_revision_classification(revision.cap, revision.new_amount)
    revision.tier = result.tier
    revision.provisional = result.provisional
    revision.missing = list(result.missing)


def cap_revision_propose(*, user: "User", cap: AnnualCap, new_amount: Decimal, reason: str) -> CapRevision:
    return cap_revision_save_new(revision=CapRevision(cap=cap, new_amount=new_amount, reason=reason), user=user)


@transaction.atomic
def cap_revision_save_new(*, revision: CapRevision, user: "User") -> CapRevision:
    """Record a proposed revision (its cap, new amount and reason set); the cap keeps its amount until the
    required steps are recorded."""
    if revision.pk is not None:
        raise ValueError("cap_revision_save_new records new revisions only")
    _lock_category(revision.cap.category_id)
    cap = _with_utilisation(revision.cap_id)
    revision.cap = cap
    revision.reason = (revision.reason or "").strip()
    revision.previous_amount = cap.amount
    revision.used_when_proposed = cap.used
    revision.breach = cap.used > cap.amount
    revision.proposed_by = user
    revision.status = CapRevision.Status.PENDING
    revision.clean_fields(exclude=["tier", "proposed_by", "missing", "reason"])
    cap_revision_check(revision)
    _classify(revision)
    revision._history_user = user
    revision.save()
    return revision


@transaction.atomic
def cap_revision_record_steps(*, revision_id: int, user: "User", **steps: datetime.date | str | None) -> CapRevision:
    """Record the dates of steps taken; when every step the classification requires is recorded, the
    revision takes effect: its amount becomes the cap's."""
    unknown = set(steps) - set(STEPS) - set(REFERENCES)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    category_id = CapRevision.objects.values_list("cap__category_id", flat=True).get(pk=revision_id)
    _lock_category(category_id)
    revision = (
        CapRevision.objects.select_for_update(of=("self",))
        .select_related("cap__category__agreement__connected_person")
        .get(pk=revision_id)
    )
    if not revision.is_pending:
        raise Refusal(
            "revision_not_pending",
            _("This revision is %(status)s; nothing can be recorded.")
            % {"status": revision.get_status_display().lower()},
        )
    for step, value in steps.items():
        setattr(revision, step, (value or "").strip() if step in REFERENCES else value)
    cap_revision_steps_check(revision)
    # Classified again: new financial figures may ask for more steps than when it was proposed.
    _classify(revision)
    revision._history_user = user
    if not steps_outstanding(revision):
        _complete(revision, user)
    revision.save()
    return revision


def _complete(revision: CapRevision, user: "User") -> None:
    totals_lock([revision.cap_id])
    cap = _with_utilisation(revision.cap_id)
    if cap.used > cap.amount:
        revision.breach = True
    cap.amount = revision.new_amount
    cap._history_user = user
    cap._change_reason = f"Cap revision {revision.pk} took effect: {revision.reason}"
    cap.save(update_fields=["amount"])
    revision.cap = cap
    revision.status = CapRevision.Status.COMPLETED
    revision.completed_by = user
    revision.completed_at = timezone.now()
    # Effective-dated: figures as at an earlier day keep the amount then in force.
    revision.effective_on = max(getattr(revision, step) for step in required_steps(revision.tier))
    cap_figures_changed(cap_ids=[cap.pk])


@transaction.atomic
def cap_revision_withdraw(*, revision_id: int, user: "User", reason: str = "") -> CapRevision:
    """Give up a pending revision; the cap keeps its amount."""
    revision = CapRevision.objects.select_for_update().get(pk=revision_id)
    if not revision.is_pending:
        raise Refusal(
            "revision_not_pending",
            _("This revision is %(status)s; it cannot be withdrawn.")
            % {"status": revision.get_status_display().lower()},
        )
    revision.status = CapRevision.Status.WITHDRAWN
    revision.withdrawn_by = user
    revision.withdrawn_at = timezone.now()
    revision.withdrawal_reason = (reason or "")[:500]
    revision._history_user = user
    revision.save()
    return revision


# --- Reads --------------------------------------------------------------------------------------


def cap_revision_list() -> QuerySet[CapRevision]:
    return CapRevision.objects.select_related("cap__category__agreement", "proposed_by", "completed_by", "withdrawn_by")


@dataclass(frozen=True)
class AmountChange:
    amount: Decimal
    changed_at: datetime.datetime
    changed_by: str
    reason: str


def cap_amount_history(cap: AnnualCap) -> list[AmountChange]:
    """Every value the cap has had, oldest first, with who set it, when and why (one query)."""
    # In the order the changes were written (history ids only grow), whatever clock stamped them.
    rows = cap.history.order_by("history_id").values_list(
        "amount", "history_date", "history_user__username", "history_change_reason"
    )
    changes: list[AmountChange] = []
    for amount, when, username, reason in rows:
        if changes and changes[-1].amount == amount:
            continue
        changes.append(AmountChange(amount=amount, changed_at=when, changed_by=username or "", reason=reason or ""))
    return changes
