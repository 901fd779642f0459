"""The steps of re-compliance (Rules 14A.54 and 14A.76), shared by cap revisions, renewals and material
changes of terms.

The tier of the classification says which steps are required, in their order: the board's approval
always; the announcement unless fully exempt; where the independent shareholders' approval is
required, also the circular and the independent financial adviser's letter to the independent
board committee and shareholders (Rules 14A.39 to 14A.46), before the vote. A record is pending
until every required step is recorded; the steps are recorded once they have happened, each after
the board's approval, and the vote after the circular that puts it to the shareholders.

Also here, below the services that use them: settling a renewal or change of terms (classify, then take
effect once its steps are recorded), and the approval gate `recompliance_pending` (services and the
draft's preview ask it; compliance.lifecycle.renewals records the renewals and changes themselves).
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.common.dates import day_in_words as _day
from compliance.models import AnnualCap, TermsChange, Tier
from compliance.rules.classification import terms_classification
from transactions.errors import Refusal
from transactions.models import CategoryRenewal, PurchaseOrder, TransactionCategory

RECOMPLIANCE_PENDING = "recompliance_pending"

BOARD, ANNOUNCEMENT, CIRCULAR, ADVISER, SHAREHOLDERS = (
    "board_approved_on",
    "announced_on",
    "circular_issued_on",
    "adviser_letter_on",
    "shareholders_approved_on",
)
STEPS = (BOARD, ANNOUNCEMENT, CIRCULAR, ADVISER, SHAREHOLDERS)
# The board's facts recorded with the steps: evidence that the board approved without the interested directors.
REFERENCES = ("board_minutes_ref", "abstaining_directors", "announcement_ref")
STEP_LABELS = {
    BOARD: gettext_lazy("the board's approval"),
    ANNOUNCEMENT: gettext_lazy("the announcement"),
    CIRCULAR: gettext_lazy("the circular to shareholders"),
    ADVISER: gettext_lazy("the independent financial adviser's letter"),
    SHAREHOLDERS: gettext_lazy("the independent shareholders' approval"),
}


def required_steps(tier: str) -> list[str]:
    """The steps a record classified in `tier` needs before it takes effect, in their order."""
    steps = [BOARD]
    if tier != Tier.FULLY_EXEMPT:
        steps.append(ANNOUNCEMENT)
    if tier == Tier.SHAREHOLDERS_APPROVAL:
        steps += [CIRCULAR, ADVISER, SHAREHOLDERS]
    return steps


def steps_outstanding(record) -> list[str]:
    """The required steps of a revision, renewal or change of terms that are not recorded yet."""
    return [step for step in required_steps(record.tier) if getattr(record, step) is None]


def steps_check(record, *, today: datetime.date | None = None) -> None:
    """Steps are recorded once they have happened, after the board's approval, the vote after the circular."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    for step in STEPS:
        day = getattr(record, step)
        if day is not None and day > today:
            errors[step] = _("%(step)s is recorded once it has happened, not for %(day)s.") % {
                "step": str(STEP_LABELS[step]).capitalize(),
                "day": _day(day),
            }
    board = record.board_approved_on
    for step in STEPS[1:]:
        day = getattr(record, step)
        if day is None or step in errors:
            continue
        if board is None:
            errors[step] = _("Record the board's approval before %(step)s.") % {"step": STEP_LABELS[step]}
        elif day < board:
            errors[step] = _("%(step)s cannot come before the board's approval.") % {
                "step": str(STEP_LABELS[step]).capitalize()
            }
    vote, circular = record.shareholders_approved_on, record.circular_issued_on
    if vote is not None and circular is not None and vote < circular and SHAREHOLDERS not in errors:
        errors[SHAREHOLDERS] = _("The independent shareholders vote after the circular is issued.")
    if errors:
        raise ValidationError(errors)


def missing_step_sentence(record) -> str:
    """The steps still to record, in words: "the announcement and the circular to shareholders"."""
    labels = [str(STEP_LABELS[step]) for step in steps_outstanding(record)]
    if len(labels) <= 1:
        return "".join(labels)
    return _("%(first)s and %(last)s") % {"first": ", ".join(labels[:-1]), "last": labels[-1]}


def recompliance_settle(record: CategoryRenewal | TermsChange, start: datetime.date, end: datetime.date) -> bool:
    """Classify the record with the caps of its days (and, aggregated, the connected person's caps) and make
    it effective once every step its tier requires is recorded. True when it has just taken effect. A record
    already effective stays so: what was complied with is not undone by a later classification."""
    if record.status == record.Status.EFFECTIVE:
        return False
    result = terms_classification(record.category, start=start, end=end)
    record.tier = result.tier
    record.provisional = result.provisional
    record.missing = list(result.missing)
    if steps_outstanding(record):
        return False
    record.status = record.Status.EFFECTIVE
    return True


def renewals_settle_for_cap(cap: AnnualCap) -> None:
    """A cap entered in a pending renewal's term changes its classification: classify it again."""
    for renewal in CategoryRenewal.objects.filter(
        category_id=cap.category_id,
        status=CategoryRenewal.Status.PENDING,
        term_start__lte=cap.period_start,
        term_end__gte=cap.period_start,
    ).select_related("category"):
        recompliance_settle(renewal, renewal.term_start, renewal.term_end)
        renewal.save(update_fields=["tier", "provisional", "missing", "status"])


# --- The approval gate -----------------------------------------------------------------------------


def recompliance_refusal(order: PurchaseOrder, category: TransactionCategory) -> Refusal | None:
    """Why the order cannot be approved while re-compliance is pending for its days, or None: it touches the
    term of a pending renewal, or the days from a pending change of the category's terms."""
    first, last = order.recognition_start, order.recognition_end
    renewal = (
        CategoryRenewal.objects.filter(
            category=category, status=CategoryRenewal.Status.PENDING, term_start__lte=last, term_end__gte=first
        )
        .order_by("term_start")
        .first()
    )
    if renewal is not None:
        return Refusal(
            RECOMPLIANCE_PENDING,
            _(
                "Order %(order)s falls in the renewed term of “%(category)s” from %(start)s to %(end)s, which has not "
                "taken effect: record %(missing)s first. A renewal must re-comply before orders are approved under "
                "it (Rule 14A.54)."
            )
            % {
                "order": order.number,
                "category": category.name,
                "start": _day(renewal.term_start),
                "end": _day(renewal.term_end),
                "missing": missing_step_sentence(renewal),
            },
        )
    change = (
        TermsChange.objects.filter(category=category, status=TermsChange.Status.PENDING, effective_from__lte=last)
        .order_by("effective_from")
        .first()
    )
    if change is not None:
        return Refusal(
            RECOMPLIANCE_PENDING,
            _(
                "The terms of “%(category)s” change from %(day)s and the change has not taken effect, so order "
                "%(order)s cannot be approved: record %(missing)s first. A material change of terms must re-comply "
                "before it governs orders (Rule 14A.54)."
            )
            % {
                "order": order.number,
                "category": category.name,
                "day": _day(change.effective_from),
                "missing": missing_step_sentence(change),
            },
        )
    return None
