"""Report titles and headers stay bilingual, their Chinese in the reader's script: English and Simplified
Chinese for a zh-hans reader (in the request, or in the worker for a user who chose Simplified), English
and Traditional otherwise. Read back with openpyxl."""

import datetime

import pytest
from django.utils import translation

from accounts.models import Preference
from compliance.common.chinese import chinese
from compliance.jobs.report_jobs import report_job_build
from compliance.models import ReportJob
from tests.compliance.workbooks import HEADER_ROW, approved_order, load, monthly

MARCH = datetime.date(2026, 3, 1)
TRADITIONAL_ONLY = set("關連協議類別間結貨幣實際額諾報單")


def header_texts(book) -> list[str]:
    return [str(cell.value) for ws in book for row in (1, 2, HEADER_ROW) for cell in ws[row] if cell.value]


@pytest.fixture
def march_order(ledger):
    approved_order(ledger, "1000.00", order_date=datetime.date(2026, 3, 5))
    return ledger


def test_under_simplified_chinese_the_headers_read_english_and_simplified(march_order):
    with translation.override("zh-hans"):
        book = load(monthly(MARCH))

    summary = book["Summary"]
    assert summary["A1"].value.startswith("Monthly cap report · 每月年度上限报告")
    assert [cell.value for cell in summary[HEADER_ROW]][1:4] == [
        "Connected person\n关连人士",
        "Agreement\n框架协议",
        "Category\n交易类别",
    ]
    assert not TRADITIONAL_ONLY & set("".join(header_texts(book)))


def test_under_traditional_chinese_and_english_the_headers_keep_the_traditional(march_order):
    for language in ("zh-hant", "en"):
        with translation.override(language):
            book = load(monthly(MARCH))

        assert book["Summary"]["B3"].value == "Connected person\n關連人士"
        assert book["Summary"]["A1"].value.startswith("Monthly cap report · 每月年度上限報告")


def test_a_job_built_by_the_worker_speaks_the_chinese_its_requester_chose(march_order, auditor_user):
    Preference.objects.create(user=auditor_user, language="zh-hans")
    job = ReportJob.objects.create(
        report="monthly", period="2026-03", format="xlsx", requested_by=auditor_user, orders=1,
        filename="cct-monthly-2026-03.xlsx",
    )  # fmt: skip

    assert report_job_build(job.pk) == "done"

    job.refresh_from_db()
    with job.file.open("rb") as built:
        book = load(built.read())
    assert book["Summary"]["B3"].value == "Connected person\n关连人士"


def test_the_conversion_leaves_english_and_simplified_text_alone():
    with translation.override("zh-hans"):
        assert chinese("Cancelled · 已取消 · 采购 · CNY 1,000.00") == "Cancelled · 已取消 · 采购 · CNY 1,000.00"
        assert chinese("年度審閱 · 關連交易") == "年度审阅 · 关连交易"
