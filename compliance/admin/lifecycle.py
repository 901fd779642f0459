"""Admin for classification and the cap lifecycle: financial years, the classification shown on each
category and connected person, renewals and the history of terms, cap revisions with the history of
every cap's values, and quote-rule exceptions with their second approval.

Every save goes through the same services as the API, so a form shows the same sentence a 400 or 409 would.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from compliance.delivery.links import revision_start_url
from compliance.lifecycle import renewals, revisions
from compliance.models import AnnualCap, CapRevision, FinancialYear, QuoteRuleException, TermsChange, Tier
from compliance.rules import classification, quote_exceptions, recompliance, terms
from compliance.rules.classification import Classification
from transactions.admin import AuditedAdmin
from transactions.admin import ConnectedPersonAdmin as FactsConnectedPersonAdmin
from transactions.errors import Refusal
from transactions.models import CategoryRenewal, ConnectedPerson, TransactionCategory
from transactions.money import format_money


def _money(amount, currency: str) -> str:
    return format_html('<span style="white-space:nowrap">{}</span>', format_money(amount, currency))


# --- Panels shown on other pages -------------------------------------------------------------------

RATIO_LABELS = {
    classification.ASSETS: _("assets ratio"),
    classification.REVENUE: _("revenue ratio"),
    classification.CONSIDERATION: _("consideration ratio"),
    classification.PROFITS: _("profits ratio (not tested)"),
}
TIER_COLOURS = {
    "fully_exempt": "#2e7d32",
    "announcement_and_annual_review": "#e65100",
    "shareholders_approval": "#b71c1c",
}


def _denominators(year) -> str:
    """The financial year's figures the ratios divide by, in a sentence."""
    if year is None:
        return gettext("No financial year recorded.")
    market_cap = (
        gettext("not recorded") if year.market_cap is None else format_money(year.market_cap, year.market_cap_currency)
    )
    return gettext(
        "%(year)s (%(currency)s): revenue %(revenue)s, total assets %(assets)s, profit before tax %(profit)s, "
        "market capitalisation %(market_cap)s."
    ) % {
        "year": year, "currency": year.currency, "revenue": format_money(year.revenue, year.currency),
        "assets": format_money(year.total_assets, year.currency),
        "profit": format_money(year.profit_before_tax, year.currency), "market_cap": market_cap,
    }  # fmt: skip


def classification_panel(result: Classification) -> str:
    """Ratios, tier, what is missing and the obligations, as a compliance officer reads them."""
    year = result.financial_year

    def shown(name: str) -> str:
        text = result.ratio_texts[name]
        if text is not None:
            return f"{text}%"
        if name == classification.PROFITS and year is not None and year.is_loss:
            return gettext("not applicable (a loss before tax)")
        return gettext("not computed (see below)")

    ratios = format_html_join(
        "",
        "<tr><th scope='row'>{}</th><td style='text-align:right'>{}</td></tr>",
        ((label, shown(name)) for name, label in RATIO_LABELS.items()),
    )
    provisional = ""
    if result.provisional:
        provisional = format_html(
            '<p class="errornote cct-provisional">{}</p>',
            gettext("Provisional: missing %(missing)s.")
            % {"missing": classification.describe_all_missing(result.missing)},
        )
    notes = format_html_join("", "<li>{}</li>", ((note,) for note in result.notes))
    obligations = format_html_join("", "<li>{}</li>", ((sentence,) for sentence in result.obligations))
    denominators = _denominators(year)
    highest = result.highest_ratio_text
    return format_html(
        '<div class="cct-classification" data-tier="{}">'
        '<p><strong style="color:{}">{}</strong> · {}</p>{}'
        "<table>{}</table>"
        "<p>{}</p><p>{}</p>"
        "<ul>{}</ul><p><strong>{}</strong></p><ul class='cct-obligations'>{}</ul></div>",
        result.tier,
        TIER_COLOURS[result.tier],
        result.tier_label,
        gettext("highest tested ratio %(ratio)s · on %(day)s")
        % {"ratio": f"{highest}%" if highest is not None else "-", "day": result.on.isoformat()},
        provisional,
        ratios,
        gettext("Numerator: %(basis)s Consideration in HKD: %(hkd)s.")
        % {"basis": result.basis, "hkd": format_money(result.consideration_hkd, "HKD")},
        gettext("Denominators: %(denominators)s") % {"denominators": denominators},
        notes,
        gettext("Obligations"),
        obligations,
    )


def terms_panel(category: TransactionCategory) -> str:
    if category.pk is None:
        return gettext("Shown once the category is saved.")
    recorded = terms.category_terms(category)
    in_force = terms.term_in_force(recorded, timezone.localdate())
    rows = format_html_join(
        "",
        "<li>{}{}{}</li>",
        (
            (
                str(term),
                gettext(" (first term)")
                if term.renewal is None
                else format_html(
                    ' (<a href="{}">{}</a>)',
                    reverse("admin:transactions_categoryrenewal_change", args=[term.renewal.pk]),
                    gettext("renewal approved %(day)s") % {"day": term.renewal.board_approved_on},
                ),
                gettext(" · in force") if term == in_force else "",
            )
            for term in recorded
        ),
    )
    add = reverse("admin:transactions_categoryrenewal_add") + f"?category={category.pk}"
    return format_html(
        '<ul class="cct-terms">{}</ul><a href="{}">{}</a>', rows, add, gettext("Record a renewal (a later term)")
    )


def amount_history_panel(cap: AnnualCap) -> str:
    if cap.pk is None:
        return "-"
    currency = cap.category.currency
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td style='text-align:right'>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (timezone.localtime(c.changed_at).strftime("%Y-%m-%d %H:%M"), format_money(c.amount, currency),
             c.changed_by or "-", c.reason or "-")
            for c in revisions.cap_amount_history(cap)
        ),
    )  # fmt: skip
    return format_html(
        '<table class="cct-amount-history"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>',
        gettext("when"), gettext("amount"), gettext("by"), gettext("why"), rows,
    )  # fmt: skip


def revisions_panel(cap: AnnualCap) -> str:
    if cap.pk is None:
        return "-"
    rows = format_html_join(
        "",
        "<li><a href='{}'>{} → {}</a> · {}{}</li>",
        (
            (
                reverse("admin:compliance_caprevision_change", args=[r.pk]),
                format_money(r.previous_amount, cap.category.currency),
                format_money(r.new_amount, cap.category.currency),
                r.get_status_display(),
                gettext(" · BREACH") if r.breach else "",
            )
            for r in cap.revisions.order_by("-proposed_at")
        ),
    )
    return format_html(
        '<ul>{}</ul><a href="{}">{}</a>', rows, revision_start_url(cap), gettext("Start a revision of this cap")
    )


# --- Financial years ---------------------------------------------------------------------------------

FIGURES = ("revenue", "total_assets", "profit_before_tax")


class FinancialYearForm(forms.ModelForm):
    unit = forms.TypedChoiceField(
        label=_("figures entered in"),
        choices=[("1", _("full amounts")), ("1000", _("thousands")), ("1000000", _("millions"))],
        coerce=int,
        initial="1",
        help_text=_("Filings often give thousands (RMB 7,785,180 thousand); the figures are stored as full amounts."),
    )

    class Meta:
        model = FinancialYear
        fields = [
            "year_end", "currency", "revenue", "total_assets", "profit_before_tax", "source", "share_price",
            "share_price_currency", "share_price_date", "shares_in_issue", "shares_in_issue_on", "market_cap",
            "market_cap_currency",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        unit = data.get("unit") or 1
        for name in FIGURES:
            if data.get(name) is not None:
                data[name] = data[name] * unit
        return data

    def _post_clean(self):
        super()._post_clean()
        try:
            classification.financial_year_check(self.instance)
        except ValidationError as error:
            self._update_errors(error)


@admin.register(FinancialYear)
class FinancialYearAdmin(AuditedAdmin):
    form = FinancialYearForm
    list_display = [
        "year_end", "currency", "revenue_column", "total_assets_column", "profit_column", "market_cap_column",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["year_end", "currency", "unit", "revenue", "total_assets", "profit_before_tax", "source"]}),
        (
            _("Market capitalisation (consideration ratio)"),
            {
                "description": _(
                    "Average closing price of the five business days before the transaction date times the shares "
                    "in issue; or the market capitalisation itself."
                ),
                "fields": ["share_price", "share_price_currency", "share_price_date", "shares_in_issue",
                           "shares_in_issue_on", "market_cap", "market_cap_currency"],
            },
        ),
    ]  # fmt: skip

    @admin.display(description=_("revenue"), ordering="revenue")
    def revenue_column(self, year) -> str:
        return _money(year.revenue, year.currency)

    @admin.display(description=_("total assets"), ordering="total_assets")
    def total_assets_column(self, year) -> str:
        return _money(year.total_assets, year.currency)

    @admin.display(description=_("profit or loss before tax"), ordering="profit_before_tax")
    def profit_column(self, year) -> str:
        return _money(year.profit_before_tax, year.currency)

    @admin.display(description=_("market capitalisation"), ordering="market_cap")
    def market_cap_column(self, year) -> str:
        if year.market_cap is None:
            return gettext("not recorded")
        return _money(year.market_cap, year.market_cap_currency)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj) or obj is None:
            return fieldsets
        # Read only: the figures are shown as stored; the unit they were typed in is the form's, not the year's.
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": [f for f in options["fields"] if f != "unit"]}), *rest]

    def save_model(self, request, obj, form, change) -> None:
        classification.financial_year_save(year=obj, user=request.user)


# --- Connected persons: their aggregated classification ---------------------------------------------


admin.site.unregister(ConnectedPerson)


@admin.register(ConnectedPerson)
class ConnectedPersonAdmin(FactsConnectedPersonAdmin):
    readonly_fields = ["aggregated_classification"]

    @admin.display(description=_("classification (aggregated, Rule 14A.76)"))
    def aggregated_classification(self, person) -> str:
        if person.pk is None:
            return gettext("Shown once the connected person is saved.")
        return classification_panel(classification.connected_person_classification(person))


# --- Renewals --------------------------------------------------------------------------------------


RECORD_STEP_FIELDS = [*recompliance.STEPS, *recompliance.REFERENCES]


def steps_panel(record) -> str:
    """The steps the record's tier requires, each with its date or "to record"."""
    outstanding = recompliance.steps_outstanding(record) if record.is_pending else []
    return format_html_join(
        "",
        "<div>{}: {}</div>",
        (
            (
                str(recompliance.STEP_LABELS[step]),
                getattr(record, step) or (_("to record") if step in outstanding else "-"),
            )
            for step in recompliance.required_steps(record.tier)
        ),
    )


def _steps_message(request: HttpRequest, record, what: str) -> None:
    if record.is_pending:
        outstanding = ", ".join(str(recompliance.STEP_LABELS[s]) for s in recompliance.steps_outstanding(record))
        messages.warning(
            request,
            _("Classified as %(tier)s: record %(steps)s before %(what)s takes effect; until then orders under it "
              "are refused.") % {"tier": str(Tier(record.tier).label).lower(), "steps": outstanding, "what": what},
        )  # fmt: skip
    else:
        messages.success(request, _("%(what)s has taken effect.") % {"what": what.capitalize()})


class CategoryRenewalForm(forms.ModelForm):
    class Meta:
        model = CategoryRenewal
        fields = ["category", "term_start", "term_end", "term_explanation", "reference", *RECORD_STEP_FIELDS]

    def _post_clean(self):
        super()._post_clean()
        try:
            renewals.category_renewal_check(self.instance)
            recompliance.steps_check(self.instance)
        except ValidationError as error:
            self._update_errors(error)


@admin.register(CategoryRenewal)
class CategoryRenewalAdmin(AuditedAdmin):
    form = CategoryRenewalForm
    list_display = ["category", "term_start", "term_end", "status", "tier", "board_approved_on", "reference"]
    list_select_related = ["category"]
    list_filter = ["category", "status"]
    readonly_fields = ["status", "tier", "provisional", "missing", "steps_required"]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["category", "term_start", "term_end", "term_explanation", "reference"]}),
            (_("Steps of re-compliance"), {"fields": RECORD_STEP_FIELDS}),
            (_("Classification"), {"fields": ["status", "tier", "provisional", "missing", "steps_required"]}),
        ]

    @admin.display(description=_("steps required"))
    def steps_required(self, renewal) -> str:
        return steps_panel(renewal) if renewal.tier else "-"

    def save_model(self, request, obj, form, change) -> None:
        renewals.category_renewal_save(renewal=obj, user=request.user)
        _steps_message(request, obj, _("the renewal"))
        if not change:
            url = reverse("admin:transactions_transactioncategory_change", args=[obj.category_id])
            messages.info(
                request,
                format_html(
                    '{} <a href="{}">{}</a>.',
                    _("Now enter the caps of the new term’s periods on"),
                    url,
                    _("the category"),
                ),
            )


class TermsChangeForm(forms.ModelForm):
    class Meta:
        model = TermsChange
        fields = ["category", "effective_from", "pricing_basis", "scope", "reason", *RECORD_STEP_FIELDS]

    def _post_clean(self):
        super()._post_clean()
        try:
            if self.instance.pk is None:
                renewals.terms_change_check(self.instance)
            recompliance.steps_check(self.instance)
        except ValidationError as error:
            self._update_errors(error)


@admin.register(TermsChange)
class TermsChangeAdmin(AuditedAdmin):
    form = TermsChangeForm
    list_display = ["category", "effective_from", "status", "tier", "proposed_by", "proposed_at"]
    list_select_related = ["category", "proposed_by"]
    list_filter = ["status"]
    record_fields = ["status", "tier", "provisional", "missing", "steps_required", "proposed_by", "proposed_at"]

    def get_fieldsets(self, request, obj=None):
        sets = [(None, {"fields": ["category", "effective_from", "pricing_basis", "scope", "reason"]}),
                (_("Steps of re-compliance"), {"fields": RECORD_STEP_FIELDS})]  # fmt: skip
        if obj is not None:
            sets.append((_("Record"), {"fields": self.record_fields}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.record_fields
        fixed = ["category", "effective_from", "pricing_basis", "scope", "reason", *self.record_fields]
        return fixed if obj.is_pending else [*fixed, *RECORD_STEP_FIELDS]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("steps required"))
    def steps_required(self, change) -> str:
        return steps_panel(change)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            fields = {name: getattr(obj, name) for name in renewals.TERMS_CHANGE_FIELDS}
            saved = renewals.terms_change_propose(user=request.user, **fields)
            obj.pk = saved.pk
        elif obj.is_pending:
            steps = {name: getattr(obj, name) for name in RECORD_STEP_FIELDS}
            saved = renewals.terms_change_record_steps(change_id=obj.pk, user=request.user, **steps)
        else:
            return
        _steps_message(request, saved, _("the change of terms"))


# --- Cap revisions -----------------------------------------------------------------------------------

STEP_FIELDS = [*revisions.STEPS, *revisions.REFERENCES]


class CapRevisionForm(forms.ModelForm):
    class Meta:
        model = CapRevision
        fields = ["cap", "new_amount", "reason", *STEP_FIELDS]

    def _post_clean(self):
        super()._post_clean()
        try:
            if self.instance.pk is None:
                revisions.cap_revision_check(self.instance)
            else:
                revisions.cap_revision_steps_check(self.instance)
        except ValidationError as error:
            self._update_errors(error)


@admin.register(CapRevision)
class CapRevisionAdmin(AuditedAdmin):
    form = CapRevisionForm
    list_display = ["cap", "previous_column", "new_column", "status", "tier", "breach", "proposed_by", "proposed_at"]
    list_filter = ["status", "breach", "tier"]
    list_select_related = ["cap__category", "proposed_by"]
    search_fields = ["cap__category__name", "reason"]
    actions = ["withdraw_selected"]
    record_fields = [
        "status", "previous_amount", "tier", "provisional", "missing", "steps", "breach_flag", "used_when_proposed",
        "proposed_by", "proposed_at", "completed_by", "completed_at", "withdrawn_by", "withdrawn_at",
        "withdrawal_reason",
    ]  # fmt: skip

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["cap", "new_amount", "reason"]})]
        return [
            (None, {"fields": ["cap", "new_amount", "reason"]}),
            (_("Steps of re-compliance"), {"fields": STEP_FIELDS}),
            (_("Record"), {"fields": self.record_fields}),
            (_("Classification of the revised cap"), {"fields": ["classification_now"]}),
            (_("Values of the cap"), {"fields": ["amount_history"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        computed = [*self.record_fields, "classification_now", "amount_history"]
        if obj is None:
            return computed
        if obj.is_pending:
            return ["cap", "new_amount", "reason", *computed]
        return ["cap", "new_amount", "reason", *STEP_FIELDS, *computed]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("current cap"))
    def previous_column(self, revision) -> str:
        return _money(revision.previous_amount, revision.cap.category.currency)

    @admin.display(description=_("revised cap"))
    def new_column(self, revision) -> str:
        return _money(revision.new_amount, revision.cap.category.currency)

    @admin.display(description=_("steps required"))
    def steps(self, revision) -> str:
        outstanding = revisions.steps_outstanding(revision) if revision.is_pending else []
        return format_html_join(
            "",
            "<div>{}: {}</div>",
            (
                (revisions.STEP_LABELS[step], getattr(revision, step) or ("to record" if step in outstanding else "-"))
                for step in revisions.required_steps(revision.tier)
            ),
        )

    @admin.display(description=_("breach"))
    def breach_flag(self, revision) -> str:
        if not revision.breach:
            return "No: the cap had not been exceeded."
        return format_html(
            '<strong class="cct-breach" style="color:#b71c1c">BREACH: the cap had already been exceeded '
            "({} used of {}) before the revision took effect. Report it.</strong>",
            format_money(revision.used_when_proposed, revision.cap.category.currency),
            format_money(revision.previous_amount, revision.cap.category.currency),
        )

    @admin.display(description=_("classification"))
    def classification_now(self, revision) -> str:
        result = classification.cap_revision_classification(revision.cap, revision.new_amount)
        return classification_panel(result)

    @admin.display(description=_("history of the cap's values"))
    def amount_history(self, revision) -> str:
        return amount_history_panel(revision.cap)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            revisions.cap_revision_save_new(revision=obj, user=request.user)
            if obj.breach:
                messages.error(
                    request,
                    _(
                        "The cap had already been exceeded: the revision is recorded and flagged as a breach of the "
                        "Listing Rules."
                    ),
                )
            needed = ", ".join(str(revisions.STEP_LABELS[s]) for s in revisions.required_steps(obj.tier))
            tier = obj.get_tier_display().lower()
            messages.info(
                request,
                _("Classified as %(tier)s: record %(steps)s for it to take effect.") % {"tier": tier, "steps": needed},
            )
            return
        if not obj.is_pending:
            return
        steps = {step: getattr(obj, step) for step in STEP_FIELDS}
        try:
            saved = revisions.cap_revision_record_steps(revision_id=obj.pk, user=request.user, **steps)
        except Refusal as refusal:
            messages.error(request, refusal.detail)
            return
        if saved.status == CapRevision.Status.COMPLETED:
            amount = format_money(saved.new_amount, saved.cap.category.currency)
            messages.success(request, _("The revision took effect: the cap is now %(amount)s.") % {"amount": amount})
        else:
            outstanding = ", ".join(str(revisions.STEP_LABELS[s]) for s in revisions.steps_outstanding(saved))
            messages.info(
                request, _("Still to record before the revision takes effect: %(steps)s.") % {"steps": outstanding}
            )

    @admin.action(description=_("Withdraw the selected pending revisions"), permissions=["change"])
    def withdraw_selected(self, request: HttpRequest, queryset) -> None:
        for revision in queryset:
            try:
                revisions.cap_revision_withdraw(revision_id=revision.pk, user=request.user)
            except Refusal as refusal:
                messages.error(request, refusal.detail)
            else:
                messages.success(
                    request, _("%(revision)s is withdrawn; the cap keeps its amount.") % {"revision": revision}
                )


# --- Quote-rule exceptions ---------------------------------------------------------------------------


class QuoteRuleExceptionForm(forms.ModelForm):
    class Meta:
        model = QuoteRuleException
        fields = ["purchase_order", "reason", "evidence"]

    def _post_clean(self):
        super()._post_clean()
        try:
            quote_exceptions.quote_rule_exception_check(self.instance)
        except ValidationError as error:
            self._update_errors(error)


@admin.register(QuoteRuleException)
class QuoteRuleExceptionAdmin(AuditedAdmin):
    form = QuoteRuleExceptionForm
    change_form_template = "admin/compliance/quoteruleexception/change_form.html"
    list_display = [
        "purchase_order", "status", "requested_by", "requested_at", "decided_by", "decided_at", "evidence_link",
    ]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["purchase_order", "requested_by", "decided_by"]
    search_fields = ["purchase_order__number", "reason"]
    record_fields = [
        "evidence_link", "order_amount", "order_currency", "order_counterparty", "status", "requested_by",
        "requested_at", "decided_by", "decided_at", "rejection_reason",
    ]  # fmt: skip

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["purchase_order", "reason", "evidence"]
        return ["purchase_order", "reason", *self.record_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["purchase_order", "reason", *self.record_fields]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("compliance.approve_quoteruleexception")

    @admin.display(description=_("evidence"))
    def evidence_link(self, exception) -> str:
        if not exception.evidence:
            return "-"
        return format_html('<a href="{}">{}</a>', exception.evidence.url, exception.evidence_name or _("evidence"))

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            quote_exceptions.quote_rule_exception_record(exception=obj, user=request.user)
            messages.info(request, _("Recorded. A second person, who neither entered the order nor requested this "
                                     "exception, approves it."))  # fmt: skip

    def get_urls(self):
        view = self.admin_site.admin_view
        own = [
            path("<int:object_id>/approve/", view(self.approve_view), name="compliance_quoteruleexception_approve"),
            path("<int:object_id>/reject/", view(self.reject_view), name="compliance_quoteruleexception_reject"),
        ]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        pending = bool(obj and obj.status == QuoteRuleException.Status.PENDING)
        context["can_decide"] = pending and self.has_decide_permission(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _decide(self, request: HttpRequest, object_id: int, act, done: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_decide_permission(request):
            raise PermissionDenied
        exception = get_object_or_404(QuoteRuleException, pk=object_id)
        try:
            act(exception)
        except Refusal as refusal:
            messages.error(request, refusal.detail)
        else:
            messages.success(request, done)
        return HttpResponseRedirect(reverse("admin:compliance_quoteruleexception_change", args=[exception.pk]))

    def approve_view(self, request: HttpRequest, object_id: int):
        return self._decide(
            request,
            object_id,
            lambda e: quote_exceptions.quote_rule_exception_approve(exception_id=e.pk, user=request.user),
            _("The exception is approved: the quote rule no longer stops this order; every other gate still applies."),
        )

    def reject_view(self, request: HttpRequest, object_id: int):
        reason = request.POST.get("reason", "").strip()
        return self._decide(
            request,
            object_id,
            lambda e: quote_exceptions.quote_rule_exception_reject(exception_id=e.pk, user=request.user, reason=reason),
            _("The exception is rejected: the order stays under the quote rule."),
        )
