"""Evidence that the monitoring controls ran: monthly sign-offs (one per month, missing months shown, a
reminder on the fifth business day), alert acknowledgements by senior management (once), the directors'
report sent to the board; the annual pack lists them."""

from decimal import Decimal

import pytest

from compliance.delivery.messages import alert_message
from compliance.evidence.monitoring import (
    alert_ack_token,
    auditor_letter_reminders,
    auditor_timetable_save,
    months_missing_signoff,
    signoff_reminder,
)
from compliance.models import Alert, AlertAcknowledgement, DistributionList, Mailing, MonthlySignoff
from tests.compliance.workbooks import annual, load
from tests.conftest import make_user
from tests.factories import D

# The ledger's first cap starts on 2025-07-29.


def an_alert(ledger) -> Alert:
    return Alert.objects.create(
        cap=ledger.caps[1], threshold=Decimal("80.00"), basis="actual", utilisation_pct=Decimal("81.00"),
        used_amount=Decimal("1620000.00"), cap_amount=Decimal("2000000.00"), reached_on=D("2026-05-04"),
    )  # fmt: skip


def test_finance_signs_a_month_off_once(ledger, finance_api, other_finance_user):
    signed = finance_api.post("/api/monthly-signoffs/", {"month": "2026-03", "note": "Reviewed"}, format="json")

    assert signed.status_code == 201
    assert (signed.data["month"], signed.data["signed_by"]) == ("2026-03", MonthlySignoff.objects.get().signed_by_id)
    again = finance_api.post("/api/monthly-signoffs/", {"month": "2026-03"}, format="json")
    assert again.status_code == 400
    assert "already signed off" in str(again.data)
    assert MonthlySignoff.objects.count() == 1


def test_management_cannot_sign_off_and_who_signed_cannot_be_chosen(ledger, management_user, finance_api):
    from tests.conftest import client_for

    assert (
        client_for(management_user).post("/api/monthly-signoffs/", {"month": "2026-03"}, format="json").status_code
        == 403
    )
    forged = finance_api.post("/api/monthly-signoffs/", {"month": "2026-03", "signed_by": 1}, format="json")
    assert forged.status_code == 400
    assert MonthlySignoff.objects.count() == 0


def test_a_month_without_a_sign_off_is_shown_as_missing(ledger, finance_user):
    MonthlySignoff.objects.create(month=D("2026-01-01"), signed_by=finance_user)
    MonthlySignoff.objects.create(month=D("2026-03-01"), signed_by=finance_user)

    missing = months_missing_signoff(until=D("2026-04-15"))

    # From the first cap's month (July 2025) to the last ended month (March 2026), less January and March.
    assert [f"{month:%Y-%m}" for month in missing] == [
        "2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-02",
    ]  # fmt: skip


def test_the_admin_lists_the_months_not_signed(ledger, finance_user, client, compliance_user):
    MonthlySignoff.objects.create(month=D("2025-07-01"), signed_by=finance_user)
    client.force_login(compliance_user)

    page = client.get("/admin/compliance/monthlysignoff/").content.decode()

    assert "Months not yet signed off" in page
    assert "2025-08" in page and "2025-07</li>" not in page


def test_the_reminder_goes_on_the_fifth_business_day_once_and_only_if_unsigned(ledger, finance_user):
    DistributionList.objects.create(name="Finance", signoff_reminders=True).members.create(email="fin@example.com")
    # October 2026: 1 Oct is National Day; the fifth business day is Thursday 8 Oct.
    assert signoff_reminder(today=D("2026-10-07")) == (None, False)
    mailing, created = signoff_reminder(today=D("2026-10-08"))
    assert created and (mailing.kind, mailing.period) == ("signoff_reminder", "2026-09")
    assert signoff_reminder(today=D("2026-10-09"))[1] is False  # once
    MonthlySignoff.objects.create(month=D("2026-10-01"), signed_by=finance_user)
    MonthlySignoff.objects.create(month=D("2026-11-01"), signed_by=finance_user)
    assert signoff_reminder(today=D("2026-12-07")) == (None, False)  # November signed: no reminder


def test_an_alert_acknowledgement_is_recorded_once(ledger, client):
    alert = an_alert(ledger)
    boss = make_user("mary.manager", "management")
    other = make_user("max.manager", "management")
    url = f"/alerts/acknowledge/{alert_ack_token(alert)}/"

    client.force_login(boss)
    assert "Acknowledge this alert" in client.get(url).content.decode()
    assert AlertAcknowledgement.objects.count() == 0  # following the link records nothing
    client.post(url)
    client.force_login(other)
    client.post(url)

    acknowledgement = AlertAcknowledgement.objects.get()
    assert (acknowledgement.alert, acknowledgement.acknowledged_by, acknowledgement.via) == (alert, boss, "link")
    assert "Acknowledged by mary.manager" in client.get(url).content.decode()


def test_only_management_acknowledges_and_a_forged_link_is_refused(ledger, client, finance_user):
    alert = an_alert(ledger)
    client.force_login(finance_user)

    client.post(f"/alerts/acknowledge/{alert_ack_token(alert)}/")
    assert AlertAcknowledgement.objects.count() == 0
    forged = alert_ack_token(alert).replace(str(alert.pk), str(alert.pk + 1), 1)
    assert client.get(f"/alerts/acknowledge/{forged}/").status_code == 404


def test_the_alert_email_carries_the_acknowledgement_link(ledger):
    alert = an_alert(ledger)
    DistributionList.objects.create(name="Management").members.create(email="boss@example.com")
    from compliance.models import AlertRecipient

    AlertRecipient.objects.create(threshold=Decimal("80.00"), email="boss@example.com")

    message = alert_message(alert)
    assert f"/alerts/acknowledge/{alert_ack_token(alert)}/" in message.text
    assert f"/alerts/acknowledge/{alert_ack_token(alert)}/" in message.html


def test_the_auditors_letter_reminders_go_ten_and_three_business_days_ahead_once(db):
    DistributionList.objects.create(name="Company secretary", auditor_timetable=True).members.create(
        email="cosec@example.com"
    )
    auditor_timetable_save(year=2025, bulk_printing_on=D("2026-04-16"))  # letter due 2026-03-30
    # Ten business days before 30 Mar 2026: 16 Mar; three: 25 Mar.
    assert auditor_letter_reminders(today=D("2026-03-13")) == []
    assert [m.period for m in auditor_letter_reminders(today=D("2026-03-16"))] == ["2025-first"]
    assert auditor_letter_reminders(today=D("2026-03-17")) == []
    assert [m.period for m in auditor_letter_reminders(today=D("2026-03-25"))] == ["2025-final"]
    assert Mailing.objects.filter(kind="auditor_letter").count() == 2


def test_the_annual_pack_lists_sign_offs_acknowledgements_and_board_submissions(ledger, finance_user):
    from compliance.models import BoardSubmission

    MonthlySignoff.objects.create(month=D("2026-01-01"), signed_by=finance_user, note="January reviewed")
    boss = make_user("mary.manager", "management")
    AlertAcknowledgement.objects.create(alert=an_alert(ledger), acknowledged_by=boss, via="admin")
    BoardSubmission.objects.create(half="2026-H1", sent_on=D("2026-07-20"), recorded_by=finance_user)

    ws = load(annual(2026))["Monitoring"]
    text = [[str(cell.value) for cell in row if cell.value is not None] for row in ws.iter_rows()]
    flat = [" | ".join(line) for line in text if line]

    assert any(line.startswith("2026-01 | fiona.finance") for line in flat)
    assert any(line.startswith("2026-02 | Missing") for line in flat)
    assert sum(1 for line in flat if "| Missing" in line) == 11
    assert any("mary.manager" in line for line in flat)
    assert any(line.startswith("2026-H1 | 2026-07-20") for line in flat)
    assert any(line.startswith("2026-H2 | Not recorded") for line in flat)


def test_senior_management_acknowledges_from_the_admin_once(ledger, client):
    alert = an_alert(ledger)
    boss = make_user("mary.manager", "management")
    client.force_login(boss)
    selected = {"action": "acknowledge", "_selected_action": [alert.pk]}

    client.post("/admin/compliance/alert/", selected)
    client.post("/admin/compliance/alert/", selected, follow=True)

    acknowledgement = AlertAcknowledgement.objects.get()
    assert (acknowledgement.acknowledged_by, acknowledgement.via) == (boss, "admin")
    assert "mary.manager" in client.get("/admin/compliance/alert/").content.decode()


def test_a_month_not_yet_begun_cannot_be_signed_off(ledger, finance_api):
    response = finance_api.post("/api/monthly-signoffs/", {"month": "2999-01"}, format="json")

    assert response.status_code == 400
    assert "has not" in str(response.data["month"])
    assert MonthlySignoff.objects.count() == 0


@pytest.mark.parametrize("month", ["0641-06", "2026-3", "2026-03-01", "1999-12"])
def test_a_month_not_written_yyyy_mm_or_before_2000_is_refused(ledger, finance_api, month):
    response = finance_api.post("/api/monthly-signoffs/", {"month": month}, format="json")

    assert response.status_code == 400
    assert response.data["month"] == ["Enter the month as YYYY-MM, e.g. 2026-03."]
    assert MonthlySignoff.objects.count() == 0


def test_a_month_reads_back_as_it_was_written(ledger, finance_api):
    response = finance_api.post("/api/monthly-signoffs/", {"month": "2026-03"}, format="json")

    assert (response.status_code, response.json()["month"]) == (201, "2026-03")
