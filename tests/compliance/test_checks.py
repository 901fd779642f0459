"""The periodic checks: each records what it finds once, however often it runs."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import tasks
from compliance.caps.documents import exchange_rate_update
from compliance.delivery import outbox
from compliance.jobs import mailings, reconciliation, sweeps
from compliance.jobs.schedule import JOBS, beat_schedule
from compliance.models import Alert, DistributionList, JobRun, Mailing, QuoteRuleFinding, TermWarning
from compliance.rules import selectors
from tests.factories import D, RateFactory, UserFactory
from transactions.models import ExchangeRate


@pytest.fixture
def approver(db):
    return UserFactory(username="approver")


def test_a_corrected_exchange_rate_revalues_and_alerts_at_once_leaving_the_sweep_nothing(ledger, approver):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-02"), rate=Decimal("7.00"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-02-20"), rate=Decimal("7.00"))
    ledger.approved("220000.00", approver=approver, currency="USD", order_date=D("2026-03-02"))  # CNY 1,540,000: 77%
    assert not Alert.objects.exists()
    rate = ExchangeRate.objects.get(rate_date=D("2026-03-02"))

    exchange_rate_update(exchange_rate=rate, user=approver, rate=Decimal("7.30"))  # CNY 1,606,000: 80.3%

    alert = Alert.objects.get()
    assert (alert.basis, alert.utilisation_pct, alert.triggered_by) == ("committed", Decimal("80.30"), None)
    assert alert.reached_on == D("2026-03-02")  # the rate's date
    assert sweeps.record_missing_alerts(on=D("2026-06-30")) == 0


def test_the_quote_rule_sweep_finds_a_supplier_later_found_to_be_connected_once(ledger, approver):
    order = ledger.approved("100.00", approver=approver)
    supplier = ledger.independents[0]
    supplier.connected_person = ledger.person
    supplier.save()

    first = sweeps.sweep_quote_rule()
    second = sweeps.sweep_quote_rule()

    assert (first["opened"], second["opened"], second["open"]) == (1, 0, 1)
    finding = QuoteRuleFinding.objects.get()
    assert finding.purchase_order == order
    assert "Independent A Ltd. was connected" in finding.detail


def test_a_finding_is_cleared_when_the_order_passes_again(ledger, approver):
    ledger.approved("100.00", approver=approver)
    supplier = ledger.independents[0]
    supplier.connected_person = ledger.person
    supplier.save()
    sweeps.sweep_quote_rule()
    supplier.connected_person = None
    supplier.save()

    outcome = sweeps.sweep_quote_rule()

    assert (outcome["cleared"], outcome["open"]) == (1, 0)
    assert QuoteRuleFinding.objects.get().cleared_at is not None


def test_the_quote_rule_sweep_takes_the_same_queries_for_few_and_many_orders(ledger, approver):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            sweeps.sweep_quote_rule()
        return len(captured)

    ledger.approved("100.00", approver=approver)
    few = queries()
    for _ in range(8):
        ledger.approved("100.00", approver=approver)

    assert queries() == few


def test_the_term_watch_warns_once_within_90_days_of_the_end(ledger):
    assert sweeps.watch_terms(on=D("2026-10-01")) == []  # 91 days before 2026-12-31
    [warning] = sweeps.watch_terms(on=D("2026-10-02"))
    assert sweeps.watch_terms(on=D("2026-10-03")) == []
    assert (warning.category, warning.term_end) == (ledger.category, D("2026-12-31"))
    ledger.category.term_end = D("2027-03-31")
    ledger.category.save()
    assert sweeps.watch_terms(on=D("2027-01-15")) != []  # a new end of term is a new warning
    assert TermWarning.objects.count() == 2


def test_the_term_watch_is_quiet_once_a_renewal_is_recorded_and_watches_the_renewal_instead(ledger):
    from transactions.models import CategoryRenewal

    CategoryRenewal.objects.create(
        category=ledger.category,
        term_start=D("2027-01-01"),
        term_end=D("2027-12-31"),
        board_approved_on=D("2026-09-01"),
    )

    assert sweeps.watch_terms(on=D("2026-11-01")) == []
    [warning] = sweeps.watch_terms(on=D("2027-11-01"))
    assert warning.term_end == D("2027-12-31")


def test_the_monthly_mailing_holds_the_utilisation_as_at_month_end(ledger, approver):
    ledger.approved("500000.00", approver=approver, order_date=D("2026-03-31"))
    ledger.approved("700000.00", approver=approver, order_date=D("2026-04-01"))

    mailing, created = mailings.monthly_mailing(month=D("2026-03-15"))
    again, created_again = mailings.monthly_mailing(month=D("2026-03-01"))

    assert (created, created_again, again.pk) == (True, False, mailing.pk)
    assert mailing.period == "2026-03"
    assert "CNY 500,000.00" in mailing.body and "(25.00%)" in mailing.body
    assert "CNY 1,200,000.00" not in mailing.body
    assert "2026-01-01" in mailing.body_html and "每月年度上限報告" in mailing.subject


def test_the_send_monthly_report_command_sends_once_to_the_monthly_lists(ledger):
    finance = DistributionList.objects.create(name="Finance", monthly_report=True)
    finance.members.create(email="finance@example.com")
    DistributionList.objects.create(name="Board", monthly_report=False).members.create(email="board@example.com")

    call_command("send_monthly_report", "--month", "2026-03", stdout=None)
    call_command("send_monthly_report", "--month", "2026-03", stdout=None)

    [email] = mail.outbox
    assert email.to == ["finance@example.com"]
    assert email.subject.startswith("Monthly cap report 2026-03")
    assert Mailing.objects.get().sent_at is not None
    [(name, content, mimetype)] = email.attachments
    assert (name, mimetype.split("/")[1]) == (
        "cct-monthly-report-2026-03.xlsx",
        "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    assert "Summary" in workbook.sheetnames


def test_the_send_monthly_report_command_explains_a_bad_month(db):
    with pytest.raises(CommandError, match="--month must look like 2026-10"):
        call_command("send_monthly_report", "--month", "March")


def test_a_mailing_without_recipients_stays_pending_with_the_reason(db):
    with pytest.raises(CommandError, match="Nobody is configured to receive monthly cap report"):
        call_command("send_monthly_report", "--month", "2026-03")

    mailing = Mailing.objects.get()
    assert mailing.sent_at is None
    assert "Nobody is configured" in mailing.last_error


def test_the_weekly_quote_rule_mailing_lists_the_open_findings(ledger, approver):
    ledger.approved("100.00", approver=approver)
    supplier = ledger.independents[1]
    supplier.connected_person = ledger.person
    supplier.save()
    sweeps.sweep_quote_rule()

    mailing, created = mailings.quote_rule_mailing(on=D("2026-11-23"))

    assert (created, mailing.period) == (True, "2026-W48")
    assert "Independent B Ltd. was connected" in mailing.body
    assert mailings.quote_rule_mailing(on=D("2026-11-27"))[1] is False


def test_the_weekly_mailing_names_a_sale_priced_below_an_independent_customer_under_the_pricing_rule(
    ledger, compliance_user
):
    # Sold for 100,000.00 against references of 90,000.00 and 95,000.00 (it passes); a reference of
    # 120,000.00 from a third independent customer recorded afterwards shows it priced 20,000.00 lower.
    from compliance.caps.approval import purchase_order_approve
    from tests.factories import QuoteFactory

    sale = ledger.sale("100000.00", references=("90000.00", "95000.00"))
    purchase_order_approve(order_id=sale.pk, user=compliance_user)
    QuoteFactory(purchase_order=sale, supplier=ledger.independents[2], quoted_on=sale.order_date,
                 amount=Decimal("120000.00"), currency=sale.currency, reference="REF-LATE")  # fmt: skip
    sweeps.sweep_quote_rule()

    mailing, _ = mailings.quote_rule_mailing(on=D("2026-11-23"))

    assert mailing.subject.startswith("Quote and pricing rule exceptions, week 2026-W48")
    assert "approved sales priced lower than independent customers were charged" in mailing.body
    assert f"Sales order {sale.number} charges the connected person CNY 100,000.00, CNY 20,000.00 less" in mailing.body


def test_every_job_is_scheduled_in_one_place_and_records_its_runs(db):
    schedule = beat_schedule()

    assert set(schedule) == {job.name for job in JOBS}
    assert all(entry["task"].startswith("compliance.tasks.") for entry in schedule.values())
    assert str(schedule["send-pending"]["schedule"]._orig_minute) == "*"
    tasks.sweep_thresholds()
    run = JobRun.objects.get()
    assert (run.job, run.succeeded, run.summary) == ("threshold-sweep", True, "0 alerts recorded")


def test_the_jobs_page_shows_the_schedule_and_the_last_runs(client, auditor_user):
    tasks.watch_terms()
    client.force_login(auditor_user)

    page = client.get("/admin/compliance/jobrun/").content.decode()

    assert page.count('class="scheduled-job"') == len(JOBS)
    assert "every minute" in page and "0 term warnings recorded" in page


def test_the_demo_reconciles_the_database_aggregates_with_a_recomputation_from_the_orders(db):
    call_command("load_demo", verbosity=0)

    differences, mailing = reconciliation.reconcile_caps(on=D("2026-11-21"))

    assert (differences, mailing) == ([], None)
    recomputed = reconciliation.recompute_caps()
    assert len(recomputed) == 6 + 4  # the announced purchase caps and the illustrative sales caps
    assert any(committed > 0 for committed, _ in recomputed.values())


def test_a_difference_is_mailed_to_compliance_once_a_day(db, monkeypatch):
    call_command("load_demo", verbosity=0)
    real = selectors.caps_with_utilisation

    def drifted(*args, **kwargs):
        caps = list(real(*args, **kwargs))
        caps[0].committed += Decimal("0.01")  # as if a stored or computed figure had drifted by a cent
        return caps

    monkeypatch.setattr(reconciliation, "caps_with_utilisation", drifted)

    differences, mailing = reconciliation.reconcile_caps(on=D("2026-11-21"))
    _, same = reconciliation.reconcile_caps(on=D("2026-11-21"))

    assert len(differences) == 1 and same.pk == mailing.pk
    assert "do not reconcile" in mailing.subject
    assert "recomputed 重新計算: committed CNY" in mailing.body
    assert outbox.send("mailing", mailing.pk) == outbox.SENT
    assert mail.outbox[-1].to == ["compliance@example.com"]
