"""Breaches of caps as records (contract v2, /api/breaches/): opened in the transaction of the change that
took a cap over its amount, one open per cap, e-mailed at once through the outbox to the lists that receive
breaches (a real SMTP server), announced and re-complied with; shown in the dashboard, the directors' report
and the annual pack until closed.

The ledger fixture's 2026 cap is CNY 2,000,000.00 (1 Jan to 31 Dec 2026)."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.db import transaction

from compliance.caps.documents import invoice_record
from compliance.delivery import outbox
from compliance.jobs import sweeps
from compliance.models import Breach, DistributionList
from compliance.reports.annual_review import write_annual_review
from compliance.reports.directors import write_directors_report
from tests.compliance.workbooks import load, money, rows
from tests.conftest import client_for
from tests.factories import D, InvoiceFactory, RateFactory, UserFactory
from tests.processes import SmtpServer
from transactions.models import ExchangeRate, Invoice

ROLES = ("finance", "compliance", "management", "auditor", "none")
READERS = {"finance", "compliance", "management", "auditor"}


@pytest.fixture
def approver(db):
    return UserFactory(username="approver")


@pytest.fixture
def breach_lists(db):
    """Compliance and the company secretary receive breaches; senior management does not."""
    compliance = DistributionList.objects.create(name="Compliance", breaches=True)
    compliance.members.create(email="compliance@example.com")
    secretary = DistributionList.objects.create(name="Company secretary", breaches=True)
    secretary.members.create(email="company.secretary@example.com")
    management = DistributionList.objects.create(name="Senior management", monthly_report=True)
    management.members.create(email="ceo@example.com")
    return ["company.secretary@example.com", "compliance@example.com"]


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def near_cap(ledger, approver):
    """An approved order of 1,900,000.00 invoiced in full on 1 March 2026: 95% of the 2026 cap."""
    order = ledger.approved("1900000.00", approver=approver, order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=order, number="INV-1", amount=Decimal("1900000.00"), invoice_date=D("2026-03-01"))
    return order


def take_over(order, finance_api, number="INV-2", amount="150000.00", day="2026-04-15"):
    response = finance_api.post(
        "/api/invoices/",
        {"purchase_order": order.pk, "number": number, "invoice_date": day, "amount": amount, "currency": "CNY"},
    )
    assert response.status_code == 201, response.content
    return response


def breach_email_recipients(server: SmtpServer) -> list[str]:
    return sorted(
        address
        for recipients, message in server.envelopes
        if message["Subject"].strip().startswith("Cap breach")
        for address in recipients
    )


# --- Opening -----------------------------------------------------------------------------------------


def test_an_invoice_that_takes_a_cap_over_opens_one_breach_and_emails_it_once_to_each_list(
    ledger, near_cap, finance_api, breach_lists, smtp, django_capture_on_commit_callbacks
):
    assert not Breach.objects.exists()  # 1,900,000.00 of 2,000,000.00

    with django_capture_on_commit_callbacks(execute=True):
        take_over(near_cap, finance_api)

    breach = Breach.objects.get()
    # 1,900,000.00 + 150,000.00 = 2,050,000.00 actual, 50,000.00 above the cap, on the invoice's date.
    assert (breach.cap_id, breach.status, breach.basis, breach.detected_on) == (
        ledger.caps[1].pk, "open", "actual", D("2026-04-15")
    )  # fmt: skip
    assert (breach.cap_amount, breach.used_amount, breach.amount_over, breach.currency) == (
        Decimal("2000000.00"), Decimal("2050000.00"), Decimal("50000.00"), "CNY"
    )  # fmt: skip
    assert breach.triggered_by == near_cap

    assert outbox.send_due()["sent"] >= 1
    assert breach_email_recipients(smtp) == breach_lists  # each once; senior management not
    [(_, message)] = [(r, m) for r, m in smtp.envelopes if m["Subject"].strip().startswith("Cap breach")]
    assert "over by CNY 50,000.00" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "went above the cap on 2026-04-15: CNY 2,050,000.00 against a cap of CNY 2,000,000.00" in text
    assert near_cap.number in text
    breach.refresh_from_db()
    assert breach.sent_at is not None
    assert sorted(breach.deliveries.values_list("email", flat=True)) == breach_lists

    outbox.send_due()
    assert breach_email_recipients(smtp) == breach_lists  # sent once


def test_a_breach_survives_a_mail_server_outage_and_is_sent_once_it_answers(near_cap, finance_api, breach_lists, smtp):
    take_over(near_cap, finance_api)
    breach = Breach.objects.get()
    smtp.refuse = True

    assert outbox.send("breach", breach.pk) == outbox.FAILED
    breach.refresh_from_db()
    assert breach.sent_at is None and "451" in breach.last_error

    smtp.refuse = False
    breach.deliveries.update(next_attempt_at=None)
    assert outbox.send("breach", breach.pk) == outbox.SENT
    assert outbox.send("breach", breach.pk) == outbox.SKIPPED
    assert breach_email_recipients(smtp) == breach_lists


def test_a_second_invoice_over_the_cap_opens_no_second_breach(ledger, near_cap, finance_api):
    take_over(near_cap, finance_api)

    take_over(near_cap, finance_api, number="INV-3", amount="10000.00", day="2026-05-01")

    breach = Breach.objects.get()
    assert breach.amount_over == Decimal("50000.00")  # as at its detection
    assert sweeps.record_missing_alerts(on=D("2026-06-30")) == 0
    assert Breach.objects.count() == 1


def test_the_breach_is_written_in_the_transaction_of_the_invoice_and_rolls_back_with_it(ledger, near_cap, approver):
    with pytest.raises(RuntimeError), transaction.atomic():
        invoice_record(
            user=approver, purchase_order=near_cap, number="INV-2", invoice_date=D("2026-04-15"),
            amount=Decimal("150000.00"), currency="CNY",
        )  # fmt: skip
        assert Breach.objects.filter(cap=ledger.caps[1], status="open").count() == 1  # before any commit
        raise RuntimeError("the act fails after the invoice was posted")

    assert not Breach.objects.exists()
    assert not Invoice.objects.filter(number="INV-2").exists()


def test_a_rate_correction_that_takes_a_cap_over_opens_the_breach_in_the_same_request(ledger, approver, compliance_api):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-02"), rate=Decimal("7.00"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-02-20"), rate=Decimal("7.00"))
    ledger.approved("280000.00", approver=approver, currency="USD", order_date=D("2026-03-02"))
    assert not Breach.objects.exists()  # 280,000 x 7.00 = 1,960,000.00 committed (98%)
    rate = ExchangeRate.objects.get(rate_date=D("2026-03-02"))

    response = compliance_api.patch(f"/api/exchange-rates/{rate.pk}/", {"rate": "7.2000000000"})

    assert response.status_code == 200, response.content
    breach = Breach.objects.get()
    # 280,000 x 7.20 = 2,016,000.00 committed: 16,000.00 above the cap, on the rate's date.
    assert (breach.basis, breach.detected_on, breach.amount_over, breach.used_amount) == (
        "committed", D("2026-03-02"), Decimal("16000.00"), Decimal("2016000.00")
    )  # fmt: skip


# --- Steps ---------------------------------------------------------------------------------------------


def test_the_steps_move_the_status_from_open_to_announced_to_recomplied_with_who_recorded_them(
    near_cap, finance_api, compliance_api, compliance_user
):
    take_over(near_cap, finance_api)
    breach = Breach.objects.get()
    path = f"/api/breaches/{breach.pk}/steps/"

    announced = compliance_api.post(path, {"announced_on": "2026-04-20", "announcement_ref": "HKEX 2026-0420"})
    assert announced.status_code == 200, announced.content
    assert (announced.json()["status"], announced.json()["announced_on"]) == ("announced", "2026-04-20")

    closed = compliance_api.post(path, {"recomplied_on": "2026-06-30"})
    assert closed.status_code == 200, closed.content
    assert (closed.json()["status"], closed.json()["recomplied_on"]) == ("recomplied", "2026-06-30")
    breach.refresh_from_db()
    assert (breach.announced_by, breach.recomplied_by, breach.announcement_ref) == (
        compliance_user, compliance_user, "HKEX 2026-0420"
    )  # fmt: skip

    again = compliance_api.post(path, {"announced_on": "2026-04-21"})
    assert (again.status_code, again.json()["code"]) == (409, "breach_closed")
    # The database's own audit trail has the breach's rows too.
    from audit.models import RowChange

    trail = RowChange.objects.filter(table_name="compliance_breach", row_id=str(breach.pk))
    assert {"INSERT", "UPDATE"} <= set(trail.values_list("operation", flat=True))


def test_a_recomplied_breach_lets_a_new_one_open_when_the_cap_is_taken_further_over(
    ledger, near_cap, finance_api, compliance_api
):
    take_over(near_cap, finance_api)
    first = Breach.objects.get()
    compliance_api.post(f"/api/breaches/{first.pk}/steps/", {"announced_on": "2026-04-20"})
    compliance_api.post(f"/api/breaches/{first.pk}/steps/", {"recomplied_on": "2026-05-05"})
    # The sweep does not reopen what was re-complied with while nothing more was used.
    sweeps.record_missing_alerts(on=D("2026-06-30"))
    assert Breach.objects.count() == 1

    take_over(near_cap, finance_api, number="INV-3", amount="10000.00", day="2026-05-10")

    second = Breach.objects.exclude(pk=first.pk).get()
    # 2,050,000.00 + 10,000.00 = 2,060,000.00: 60,000.00 above the cap, first beyond the closed breach on 10 May.
    assert (second.status, second.detected_on, second.amount_over) == ("open", D("2026-05-10"), Decimal("60000.00"))


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"announced_on": "2026-13-45"}, "announced_on", "Date has wrong format"),
        ({"announced_on": "2026-04-01"}, "announced_on", "cannot come before"),
        ({"announced_on": "2999-01-01"}, "announced_on", "is in the future"),
        ({"recomplied_on": "2026-06-30"}, "recomplied_on", "Record the announcement of the breach first"),
        ({"status": "recomplied"}, "status", "cannot be set"),
        ({}, "announced_on", "Give the date of the announcement"),
        ({"announced_on": "2026-04-20", "recomplied_on": "2026-04-19"}, "recomplied_on", "after the announcement"),
    ],
)
def test_a_bad_step_is_a_400_that_says_why_and_writes_nothing(
    near_cap, finance_api, compliance_api, body, field, words
):
    take_over(near_cap, finance_api)
    breach = Breach.objects.get()
    history = breach.history.count()

    response = compliance_api.post(f"/api/breaches/{breach.pk}/steps/", body, format="json")

    assert response.status_code == 400, response.content
    assert words in str(response.json()[field])
    breach.refresh_from_db()
    assert (breach.status, breach.announced_on, breach.recomplied_on) == ("open", None, None)
    assert breach.history.count() == history


def test_a_body_that_is_not_an_object_is_a_400(near_cap, finance_api, compliance_api):
    take_over(near_cap, finance_api)
    breach = Breach.objects.get()

    response = compliance_api.post(f"/api/breaches/{breach.pk}/steps/", ["2026-04-20"], format="json")

    assert response.status_code == 400
    breach.refresh_from_db()
    assert breach.status == "open"


# --- The API -------------------------------------------------------------------------------------------


def test_the_api_gives_the_contracts_fields(ledger, near_cap, finance_api, compliance_api):
    take_over(near_cap, finance_api)

    [listed] = compliance_api.get("/api/breaches/").json()["results"]

    assert {key: listed[key] for key in (
        "cap", "detected_on", "amount_over", "status", "announced_on", "recomplied_on", "currency", "basis"
    )} == {
        "cap": ledger.caps[1].pk, "detected_on": "2026-04-15", "amount_over": "50000.00", "status": "open",
        "announced_on": None, "recomplied_on": None, "currency": "CNY", "basis": "actual",
    }  # fmt: skip
    assert compliance_api.get(f"/api/breaches/?status=open&cap={ledger.caps[1].pk}").json()["count"] == 1
    assert compliance_api.get("/api/breaches/?status=recomplied").json()["count"] == 0


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_breaches_and_only_compliance_records_their_steps(near_cap, finance_api, role_users, role):
    take_over(near_cap, finance_api)
    breach = Breach.objects.get()
    client = client_for(role_users[role])
    path = f"/api/breaches/{breach.pk}/"

    listed = client.get("/api/breaches/").status_code
    read = client.get(path).status_code
    steps = client.post(f"{path}steps/", {"announced_on": "2026-04-20"}).status_code
    created = client.post("/api/breaches/", {"cap": breach.cap_id}).status_code
    changed = client.patch(path, {"status": "recomplied"}).status_code
    deleted = client.delete(path).status_code

    assert (listed, read) == ((200, 200) if role in READERS else (403, 403))
    assert steps == (200 if role == "compliance" else 403)
    assert created in (403, 405) and changed in (403, 405) and deleted in (403, 405)
    breach.refresh_from_db()
    assert breach.status == ("announced" if role == "compliance" else "open")


# --- Shown until closed -----------------------------------------------------------------------------


def test_the_dashboard_and_the_admin_show_an_open_breach_and_compliance_records_its_steps_there(
    client, near_cap, finance_api, compliance_user, management_user
):
    take_over(near_cap, finance_api)
    breach = Breach.objects.get()

    client.force_login(management_user)
    page = client.get("/admin/dashboard/").content.decode()
    assert 'id="open-breaches"' in page and "CNY 50,000.00" in page
    assert (
        client.post(f"/admin/compliance/breach/{breach.pk}/steps/", {"announced_on": "2026-04-20"}).status_code == 403
    )
    assert "record-announcement" not in client.get(f"/admin/compliance/breach/{breach.pk}/change/").content.decode()

    client.force_login(compliance_user)
    assert "record-announcement" in client.get(f"/admin/compliance/breach/{breach.pk}/change/").content.decode()
    client.post(f"/admin/compliance/breach/{breach.pk}/steps/", {"announced_on": "2026-04-20"})
    client.post(f"/admin/compliance/breach/{breach.pk}/steps/", {"recomplied_on": "2026-06-30"})
    breach.refresh_from_db()
    assert breach.status == "recomplied"
    assert 'id="open-breaches"' not in client.get("/admin/dashboard/").content.decode()
    assert client.get("/admin/compliance/breach/").status_code == 200


def test_the_directors_report_and_the_annual_pack_list_the_breach_until_it_is_closed(
    ledger, near_cap, finance_api, compliance_api
):
    take_over(near_cap, finance_api)
    breach = Breach.objects.get()

    def sheet(write, period) -> list[dict]:
        output = BytesIO()
        write(period, output)
        return rows(load(output.getvalue())["Breaches"])

    [h1] = sheet(write_directors_report, D("2026-01-01"))
    assert (h1["Detected on"].value.date(), money(h1["Over by"]), h1["Status"].value) == (
        D("2026-04-15"), Decimal("50000.00"), "OPEN: to announce · 未公告"
    )  # fmt: skip
    # Detected in H1 2026 and still open: H2 2026 shows it too.
    assert len(sheet(write_directors_report, D("2026-07-01"))) == 1

    output = BytesIO()
    write_annual_review(2026, output)
    book = load(output.getvalue())
    [row] = rows(book["Breaches"])
    assert money(row["Over by"]) == Decimal("50000.00")
    [cap_matter] = [r for r in rows(book["Matter exceptions"]) if r["Matter"].value.startswith("(d)")]
    assert "Breach recorded: detected on 15 Apr 2026, over by CNY 50,000.00, open: to announce." in (
        cap_matter["What the product identified"].value
    )
    summary = [cell.value for line in book["INED summary"].iter_rows() for cell in line if cell.value]
    assert "1 breaches of caps recorded, 1 not yet re-complied with (Breaches)." in summary

    compliance_api.post(f"/api/breaches/{breach.pk}/steps/", {"announced_on": "2026-04-20"})
    compliance_api.post(f"/api/breaches/{breach.pk}/steps/", {"recomplied_on": "2026-06-30"})
    # Closed in H1: H2 no longer shows it; H1, where it was detected, still does, closed.
    assert sheet(write_directors_report, D("2026-07-01")) == []
    [closed] = sheet(write_directors_report, D("2026-01-01"))
    assert closed["Status"].value == "Re-complied · 已重新遵守"


def test_the_list_takes_the_same_queries_for_few_and_many_breaches(ledger, auditor_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import CapFactory, CategoryFactory

    def breaches(n: int, tag: str) -> None:
        for i in range(n):
            cap = CapFactory(category=CategoryFactory(agreement=ledger.agreement, name=f"Category {tag}{i}"))
            breach = Breach.objects.create(
                cap=cap, detected_on=cap.period_start, basis="actual", currency="CNY", cap_amount=cap.amount,
                used_amount=cap.amount + 1, amount_over=1,
            )  # fmt: skip
            breach.deliveries.create(email=f"compliance{tag}{i}@example.com")

    def queries(client) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/breaches/")
        assert response.status_code == 200, response.content
        return len(captured)

    client = client_for(auditor_user)
    breaches(2, "a")
    client.get("/api/breaches/")  # the user's permissions are read once, then cached
    few = queries(client)

    breaches(6, "b")

    assert queries(client) == few


def test_the_migration_opens_a_breach_for_each_cap_already_over_and_tells_the_default_lists(
    ledger, near_cap, finance_api
):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("compliance.migrations.0014_breaches")
    take_over(near_cap, finance_api)
    Breach.objects.all().delete()  # as before breaches were recorded
    secretary = DistributionList.objects.create(name="Company secretary")
    other = DistributionList.objects.create(name="Head of finance")

    migration.open_breaches_of_caps_over(apps, None)
    migration.lists_receive_breaches(apps, None)

    breach = Breach.objects.get()
    assert (breach.cap_id, breach.detected_on, breach.amount_over, breach.status) == (
        ledger.caps[1].pk, D("2026-04-15"), Decimal("50000.00"), "open"
    )  # fmt: skip
    secretary.refresh_from_db()
    other.refresh_from_db()
    assert (secretary.breaches, other.breaches) == (True, False)
