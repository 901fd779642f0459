"""Reports too long for a request go to the worker: the API answers 202 with the job's address, a real
Celery worker on a Redis of its own builds the report with its progress, and the file is downloaded
once built; small reports stay in the request."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings

from compliance.jobs.report_jobs import ReportRequest, report_job_build, report_order_count, sweep_report_jobs
from compliance.models import ReportJob
from compliance.reports.workbook import XLSX_CONTENT_TYPE
from tests.compliance.pdfs import reader, text
from tests.compliance.workbooks import approved_order, load, rows
from tests.conftest import client_for
from tests.processes import RedisServer, Worker, broker, wait_for, worker_environment


@pytest.fixture
def year_of_orders(ledger):
    """30 approved orders of CNY 1,000.00 in 2026."""
    for n in range(30):
        approved_order(ledger, "1000.00", order_date=datetime.date(2026, 1, 5) + datetime.timedelta(days=n * 7))
    return ledger


def test_the_orders_a_report_reads_are_counted_to_judge_its_cost(year_of_orders):
    # Weekly from 5 January: 13 dated by 31 March (the 13th on 30 March), 30 in the year.
    assert report_order_count(ReportRequest(report="monthly", period="2026-03", pdf=False)) == 13
    assert report_order_count(ReportRequest(report="annual-review", period="2026", pdf=False)) == 30
    assert report_order_count(ReportRequest(report="annual-review", period="2024", pdf=True)) == 0


def test_a_small_report_is_still_built_in_the_request(year_of_orders, auditor_user, settings):
    settings.CCT_REPORT_SYNC_ORDERS = 13  # exactly March's 13 orders: still in the request
    api = client_for(auditor_user)

    response = api.get("/api/reports/monthly/", {"month": "2026-03"})

    assert response.status_code == 200
    assert not ReportJob.objects.exists()


@pytest.mark.pdf
def test_a_pdf_weighs_more_than_a_workbook(year_of_orders, auditor_user, settings):
    settings.CCT_REPORT_SYNC_ORDERS, settings.CCT_REPORT_PDF_WEIGHT = 100, 10  # 13 x 10 > 100 >= 13
    api = client_for(auditor_user)

    assert api.get("/api/reports/monthly/", {"month": "2026-03"}).status_code == 200
    queued = api.get("/api/reports/monthly/", {"month": "2026-03", "format": "pdf"})
    assert queued.status_code == 202
    job = ReportJob.objects.get()
    assert (job.report, job.period, job.format, job.status, job.orders) == ("monthly", "2026-03", "pdf", "queued", 13)
    assert queued["Location"] == f"/api/report-jobs/{job.pk}/"
    assert queued.json()["download"] is None


def test_a_job_is_built_once_even_when_its_message_comes_twice(year_of_orders, auditor_user):
    job = ReportJob.objects.create(
        report="annual-review", period="2026", format="xlsx", requested_by=auditor_user, orders=30,
        filename="cct-annual-review-2026.xlsx",
    )  # fmt: skip

    assert report_job_build(job.pk) == "done"
    assert report_job_build(job.pk) == "not queued"
    job.refresh_from_db()
    assert (job.status, job.progress, job.size > 0) == ("done", 100, True)
    with job.file.open("rb") as built:
        book = load(built.read())
    assert len(rows(book["Orders"])) == 30


def test_another_user_s_job_is_not_theirs_to_read_but_compliance_sees_it(
    year_of_orders, auditor_user, finance_user, compliance_user
):
    job = ReportJob.objects.create(
        report="monthly", period="2026-03", format="pdf", requested_by=auditor_user, filename="m.pdf"
    )

    assert client_for(finance_user).get(f"/api/report-jobs/{job.pk}/").status_code == 404
    assert client_for(compliance_user).get(f"/api/report-jobs/{job.pk}/").status_code == 200
    not_ready = client_for(auditor_user).get(f"/api/report-jobs/{job.pk}/download/")
    assert (not_ready.status_code, not_ready.json()["code"]) == (409, "report_not_ready")


def test_the_sweep_fails_a_job_whose_worker_stopped_and_queues_one_whose_message_was_lost(year_of_orders, auditor_user):
    from django.utils import timezone

    long_ago = timezone.now() - datetime.timedelta(seconds=settings.CCT_REPORT_JOB_TIME_LIMIT + 120)
    stuck = ReportJob.objects.create(
        report="monthly", period="2026-03", format="pdf", requested_by=auditor_user, filename="m.pdf",
        status="running", started_at=long_ago,
    )  # fmt: skip
    lost = ReportJob.objects.create(
        report="monthly", period="2026-03", format="pdf", requested_by=auditor_user, filename="m.pdf"
    )
    ReportJob.objects.filter(pk=lost.pk).update(requested_at=long_ago)

    # The broker is the test settings' in-memory one: queueing succeeds and nothing runs it.
    assert sweep_report_jobs() == {"requeued": 1, "failed": 1}
    stuck.refresh_from_db()
    assert stuck.status == "failed" and "ask for it again" in stuck.error


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.pdf
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_large_report_goes_through_the_worker_with_progress_and_is_downloaded_when_built(
    ledger, auditor_user, redis_server, tmp_path, settings
):
    for n in range(40):
        approved_order(ledger, "1000.00", order_date=datetime.date(2026, 1, 5) + datetime.timedelta(days=n))
    settings.CCT_REPORT_SYNC_ORDERS = 10  # 40 orders: too many for a request
    env = worker_environment(broker_url=redis_server.url, smtp=None, var_dir=tmp_path / "worker")
    env["PRIVATE_MEDIA_ROOT"] = str(settings.PRIVATE_MEDIA_ROOT)  # where this process reads the file
    worker = Worker("reports", env, tmp_path).start()
    api = client_for(auditor_user)
    try:
        with broker(redis_server.url, settings.REDIS_BROKER_OPTIONS):
            queued = api.get("/api/reports/annual-review/", {"year": "2026", "format": "pdf"})
        assert queued.status_code == 202
        location = queued["Location"]

        done = wait_for(
            lambda: (job := api.get(location).json())["status"] in ("done", "failed") and job,
            timeout=120,
            every=0.5,
            what="the worker to build the report",
        )
    finally:
        worker.stop()

    assert (done["status"], done["progress"], done["requested_by"]) == ("done", 100, auditor_user.username)
    assert done["filename"] == "cct-annual-review-2026.pdf"
    download = api.get(done["download"])
    assert (download.status_code, download["Content-Type"]) == (200, "application/pdf")
    data = b"".join(download.streaming_content)
    assert len(reader(data).pages) >= 2
    printed = text(data)
    assert "Annual review of continuing connected transactions" in printed and "持續關連交易年度審閱" in printed
    assert f"{Decimal('40000.00'):,.2f}" in printed  # 40 x 1,000.00 committed
    assert ReportJob.objects.get().requested_by == auditor_user


def test_the_admin_s_report_box_follows_a_long_report_to_its_job_page_which_refreshes_until_it_is_built(
    year_of_orders, client, management_user, settings
):
    settings.CCT_REPORT_SYNC_ORDERS = 1
    client.force_login(management_user)

    box = client.get("/admin/")
    assert b'name="format"' in box.content and b'value="pdf"' in box.content
    answer = client.get("/api/reports/annual-review/", {"year": "2026", "format": "xlsx", "ui": "admin"})
    job = ReportJob.objects.get()
    assert (answer.status_code, answer["Location"]) == (302, f"/admin/compliance/reportjob/{job.pk}/change/")
    page = client.get(answer["Location"])
    assert page.status_code == 200
    assert b'http-equiv="refresh"' in page.content and b'<progress max="100" value="0"' in page.content
    # The stage as the worker wrote it, its Chinese in the reader's script.
    assert "Queued · 排隊中" in page.content.decode()
    assert "Queued · 排队中" in client.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="zh-cn").content.decode()

    report_job_build(job.pk)
    built = client.get(answer["Location"])
    assert b'http-equiv="refresh"' not in built.content
    download = client.get(f"/admin/compliance/reportjob/{job.pk}/download/")
    assert (download.status_code, download["Content-Type"]) == (200, XLSX_CONTENT_TYPE)
