"""The report downloads of the API: who may download them, the file, bad input, the schema; and the caps
resource's figures as at a date, which the reports reconcile with."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.compliance.workbooks import approved_order, load, money, rows
from tests.conftest import client_for
from tests.factories import D, InvoiceFactory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROLES = ("finance", "compliance", "management", "auditor")


def content(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_downloads_the_monthly_report_as_an_xlsx_attachment(ledger, role_users, role):
    approved_order(ledger, "1234.56", order_date=D("2026-03-02"))

    response = client_for(role_users[role]).get("/api/reports/monthly/", {"month": "2026-03"})

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="cct-monthly-report-2026-03.xlsx"'
    assert money(rows(load(content(response))["Summary"])[0]["Committed"]) == Decimal("1234.56")


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/reports/monthly/", {"month": "2026-03"}),
        ("/api/reports/directors/", {"half": "2026-H1"}),
        ("/api/reports/annual-review/", {"year": "2026"}),
    ],
)
def test_a_user_without_a_role_or_not_logged_in_gets_no_report(ledger, norole_user, path, query):
    assert client_for(norole_user).get(path, query).status_code == 403
    assert APIClient().get(path, query).status_code in (401, 403)


@pytest.mark.parametrize("month", [None, "", "2026-13", "2026-03-01", "March 2026", "26-03"])
def test_a_missing_or_malformed_month_is_refused_with_a_field_error(db, management_user, month):
    query = {} if month is None else {"month": month}

    response = client_for(management_user).get("/api/reports/monthly/", query)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "YYYY-MM" in response.json()["month"][0]


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/reports/directors/", {"half": "2026-H3"}, "half"),
        ("/api/reports/directors/", {}, "half"),
        ("/api/reports/annual-review/", {"year": "twenty"}, "year"),
        ("/api/reports/annual-review/", {}, "year"),
    ],
)
def test_the_other_reports_refuse_a_bad_period_with_a_field_error(db, auditor_user, path, query, field):
    response = client_for(auditor_user).get(path, query)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_directors_report_and_the_annual_review_download_with_their_names(ledger, auditor_user):
    api = client_for(auditor_user)

    directors = api.get("/api/reports/directors/", {"half": "2026-H2"})
    review = api.get("/api/reports/annual-review/", {"year": "2026"})

    assert directors["Content-Disposition"] == 'attachment; filename="cct-directors-report-2026-H2.xlsx"'
    assert load(content(directors)).sheetnames[0] == "Connected persons"
    assert review["Content-Disposition"] == 'attachment; filename="cct-annual-review-2026.xlsx"'
    assert load(content(review)).sheetnames[0] == "INED summary"


def test_a_client_asking_only_for_the_workbook_gets_it_and_reads_errors_as_json(db, finance_user):
    api = client_for(finance_user)

    good = api.get("/api/reports/monthly/", {"month": "2026-03"}, HTTP_ACCEPT=XLSX)
    bad = api.get("/api/reports/monthly/", {"month": "2026-3-1"}, HTTP_ACCEPT=XLSX)

    assert (good.status_code, good["Content-Type"]) == (200, XLSX)
    assert (bad.status_code, bad["Content-Type"]) == (400, "application/json")
    assert "month" in bad.json()


def test_the_schema_documents_the_downloads_with_their_parameter_and_file(db, auditor_user):
    reader = APIClient()
    reader.force_login(auditor_user)
    schema = reader.get("/api/schema/", {"format": "json"}).json()

    monthly = schema["paths"]["/api/reports/monthly/"]["get"]
    assert [(p["name"], p["in"], p.get("required", False)) for p in monthly["parameters"]] == [
        ("format", "query", False),
        ("month", "query", True),
    ]
    assert monthly["responses"]["200"]["content"][XLSX]["schema"] == {"type": "string", "format": "binary"}
    assert monthly["responses"]["200"]["content"]["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    assert {"200", "202", "400", "403"} <= set(monthly["responses"])
    paths = schema["paths"]
    assert [p["name"] for p in paths["/api/reports/directors/"]["get"]["parameters"]] == ["format", "half"]
    assert [p["name"] for p in paths["/api/reports/annual-review/"]["get"]["parameters"]] == ["format", "year"]


def test_the_caps_resource_gives_figures_as_at_a_date(ledger, compliance_user):
    order = approved_order(ledger, "1000.00", order_date=D("2026-03-31"))
    approved_order(ledger, "500.00", order_date=D("2026-04-01"))
    InvoiceFactory(purchase_order=order, amount=Decimal("400.00"), invoice_date=D("2026-03-31"))
    InvoiceFactory(purchase_order=order, amount=Decimal("600.00"), invoice_date=D("2026-04-01"))
    api = client_for(compliance_user)

    def cap_2026(query):
        return next(c for c in api.get("/api/caps/", query).json()["results"] if c["period_start"] == "2026-01-01")

    assert (cap_2026({})["committed"], cap_2026({})["actual"]) == ("1500.00", "1000.00")
    as_at = cap_2026({"as_of": "2026-03-31"})
    assert (as_at["committed"], as_at["actual"], as_at["remaining"]) == ("1000.00", "400.00", "1999000.00")
    assert api.get("/api/caps/", {"as_of": "31/03/2026"}).status_code == 400
