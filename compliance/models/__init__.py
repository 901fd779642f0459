"""The policy on the facts: annual caps, alerts and who hears of them.

Domain words
- An *annual cap* (年度上限) limits what a transaction category may use in one *period*. Periods
  follow the agreement's dates, not calendar years: any start and end day, inside the category's
  term, never overlapping another period of the same category. Its amount is in the category's
  currency.
- *Committed*: what approved orders allocate to the period (withdrawn again from a cancellation's
  effective day); *actual*: every invoice dated in it, whatever its order's status, less credit
  notes; *headroom* (remaining): the cap less the larger of the two.
- The *cap ledger* (LedgerEntry) records every change to those figures as an entry on a business
  date: commitment, withdrawal, invoice, credit note, revaluation. Entries are never changed or
  deleted (a trigger refuses it on PostgreSQL, migration 0009): a correction is a new entry. The
  figures as at a day are the sums of the entries dated on or before it; today's are kept as running
  totals (CapTotals) changed only together with the entries, under the totals' row lock
  (compliance.caps.ledger).
- A cap's amount is effective-dated: a completed revision takes effect on the date of its last
  required step (CapRevision.effective_on); before it the previous amount applied.
- An *alert* is recorded once per cap, threshold and basis (actual or committed) when the figure
  reaches the threshold (80% by default, further thresholds in AlertThreshold), in the same
  transaction as the change. It is also the outbox for its e-mail: `sent_at` stays empty until sent.
- A *breach* is recorded when a cap's committed or actual amount goes above its amount, in the same
  transaction as the change (compliance.alerts.breaches, from compliance.caps.ledger.cap_figures_changed): at most
  one open per cap (a partial UniqueConstraint), then announced and re-complied with (who and when kept
  for each step, CheckConstraints). It is the outbox of its e-mail to the lists that receive breaches.

Invariants: positive amounts and thresholds; period end on or after start; one alert per cap,
threshold and basis (UniqueConstraint); no overlapping periods in a category (an exclusion constraint
on PostgreSQL, migration 0002, and compliance.caps.setup everywhere); periods inside the term
(compliance.caps.setup). Financial rows are never cascade-deleted (PROTECT).

Delivery and periodic checks
- Alerts, insufficient-headroom warnings, term warnings and the scheduled mailings are *outbox* rows
  (Outbox): recorded with the change, then e-mailed once by compliance.delivery.outbox, which claims a row with
  a conditional update; `sent_at` stays empty until the mail server accepts the message.
- *Distribution lists* are named lists of addresses and say what each receives; alert recipients
  per threshold are single addresses (the API's /api/alert-recipients/).
- *Quote-rule findings* are approved orders that no longer pass the quote rule (one open finding per
  order); *job runs* record each run of a scheduled job.

Classification and the cap lifecycle
- A *financial year* holds the issuer's audited figures, the denominators of the percentage ratios
  (百分比率), as full amounts in one currency (RMB 7,785,180 thousand is 7785180000.00 CNY), and the
  market capitalisation: the average closing price of the five business days before a transaction
  date times the shares in issue, both entered with their dates (compliance.rules.classification).
- A *cap revision* raises a cap. It is pending until every step its classification requires is
  recorded (board approval; announcement; independent shareholders' approval), and only then does its
  amount become the cap's amount, in the same transaction (compliance.lifecycle.revisions). Until then the old
  amount governs every gate. One pending revision per cap (UniqueConstraint). A revision proposed when
  the cap was already exceeded is kept and flagged as a breach.
- A *material change of terms* (TermsChange) changes a category's pricing basis or scope from a day on.
  Like a renewal (transactions.CategoryRenewal) it is pending until the re-compliance steps its
  classification requires are recorded (compliance.rules.recompliance, compliance.lifecycle.renewals); meanwhile
  orders touching its days are refused (`recompliance_pending`) and the category keeps its terms.
  Revisions, renewals and changes of terms record the board minutes' reference, the directors who
  abstained and the announcement's reference with their steps.
- A *report job* is a report too long for a request, built by the worker (compliance.jobs.report_jobs)
  with its progress; claimed once by a conditional update, its file kept for download.
- A *quote-rule exception* lets one order through the quote rule where fewer independent quotes can
  exist: a reason, evidence, and a second person's approval. The approver is neither the requester
  (CheckConstraint) nor the order's creator (compliance.rules.quote_exceptions); at most one open exception
  per order (UniqueConstraint).
"""

# The models live in one module per subject; they are all importable from compliance.models, under the
# app label `compliance` (migrations, permissions, admin URL names and history tables are unchanged).
from compliance.models.caps import (  # noqa: F401
    PERCENT,
    AnnualCap,
    CapTotals,
    LedgerEntry,
)
from compliance.models.delivery import (  # noqa: F401
    Alert,
    AlertRecipient,
    AlertThreshold,
    Breach,
    Delivery,
    DistributionList,
    DistributionListMember,
    HeadroomWarning,
    Mailing,
    Outbox,
    QuoteRuleFinding,
    TermWarning,
)
from compliance.models.evidence import (  # noqa: F401
    AccessUndertaking,
    AlertAcknowledgement,
    AuditorTimetable,
    BoardSubmission,
    EvidenceBinder,
    IssuedReport,
    MonthlySignoff,
)
from compliance.models.jobs import (  # noqa: F401
    CompletenessCheck,
    Import,
    JobRun,
    ReportJob,
    _report_job_storage,  # named by migration 0017
)
from compliance.models.lifecycle import (  # noqa: F401
    CapRevision,
    FinancialYear,
    QuoteRuleException,
    TermsChange,
    Tier,
)
