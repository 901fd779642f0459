"""What approval would say of a draft, gate by gate, as the records stand now: the very checks
`approval.purchase_order_approve` runs, in its order, without its locks and without writing anything.
The draft order's page shows it, so nobody learns of a missing rate or an out-of-term service period only
when compliance presses Approve. (Figures can still move before approval: approval checks again.)"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from compliance.caps import approval
from compliance.rules.recompliance import RECOMPLIANCE_PENDING, recompliance_refusal
from transactions.errors import Refusal
from transactions.models import PurchaseOrder
from transactions.selectors import amount_converted


@dataclass(frozen=True)
class GateOutcome:
    gate: str
    code: str
    passes: bool
    sentence: str = ""


def approval_preview(order: PurchaseOrder) -> list[GateOutcome]:
    """Each gate with pass, or the refusal sentence approval would give. A gate that cannot be judged
    because an earlier one lacks what it needs (caps without a rate) says so."""
    category = order.category
    outcomes: list[GateOutcome] = []

    def judge(gate: str, code: str, check) -> None:
        try:
            found = check()  # a refusal returned (or raised) fails the gate; anything else passes it
        except Refusal as raised:
            found = raised
        refusal = found if isinstance(found, Refusal) else None
        if refusal is None:
            outcomes.append(GateOutcome(gate, code, True))
        else:
            outcomes.append(GateOutcome(gate, refusal.code, False, refusal.detail))

    judge(_("Term"), approval.OUTSIDE_TERM, lambda: approval._check_term(order, category))
    judge(_("Re-compliance"), RECOMPLIANCE_PENDING, lambda: recompliance_refusal(order, category))
    if category.direction == category.Direction.SALE:
        judge(_("Pricing rule"), approval.PRICING_RULE, lambda: approval._check_quote_rule(order, category))
    else:
        judge(_("Quote rule"), approval.QUOTE_RULE, lambda: approval._check_quote_rule(order, category))
    converted = amount_converted(
        amount=order.amount, currency=order.currency, target_currency=category.currency, on=order.order_date
    )
    if converted is None:
        refusal = approval._order_rate_refusal(order, category.currency)
        outcomes.append(GateOutcome(_("Exchange rate"), refusal.code, False, refusal.detail))
        outcomes.append(
            GateOutcome(
                _("Annual caps"),
                approval.CAP_EXCEEDED,
                False,
                _("Cannot be checked until the %(pair)s rate is recorded.")
                % {"pair": f"{order.currency}/{category.currency}"},
            )
        )
        return outcomes
    outcomes.append(GateOutcome(_("Exchange rate"), approval.NO_EXCHANGE_RATE, True))
    judge(_("Annual caps"), approval.CAP_EXCEEDED, lambda: approval._check_caps(order, category, converted))
    return outcomes
