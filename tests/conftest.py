"""Shared fixtures, and the rule about services: a test that needs PostgreSQL, Redis, Chromium or the PDF
packs' font is skipped with a message when the machine has none, except under CI=true, where it runs
(and fails)."""

import os
import shutil

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from tests import factories

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ROLES = ("finance", "compliance", "management", "auditor")


def _missing_services() -> dict[str, str]:
    missing = {}
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        missing["postgres"] = "the suite runs on SQLite (no PostgreSQL on 127.0.0.1:5432, or TEST_USE_POSTGRES=0)"
    if not shutil.which("redis-server"):
        missing["redis"] = "redis-server is not installed (the delivery tests start Redis servers of their own)"
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        missing["browser"] = "Debian's chromium and chromium-driver are not installed (make browser)"
    from compliance.reports.pdf import FONT_FILES

    if not (any(os.path.exists(path) for path in FONT_FILES) and shutil.which("pdftoppm")):
        missing["pdf"] = "Debian's fonts-wqy-zenhei and poppler-utils are not installed (make pdf-tools)"
    return missing


def pytest_sessionstart(session) -> None:
    missing = _missing_services()
    if IN_CI and missing:
        pytest.exit("CI=true but services are missing: " + "; ".join(missing.values()), returncode=3)


def pytest_collection_modifyitems(config, items) -> None:
    missing = _missing_services()
    for item in items:
        for marker, reason in missing.items():
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=f"needs {marker}: {reason}"))


def pytest_report_header(config) -> list[str]:
    missing = _missing_services()
    lines = [f"database: {connection.vendor}; redis-server: {shutil.which('redis-server') or 'none'}"]
    lines += [f"skipping {marker} tests: {reason}" for marker, reason in missing.items()]
    return lines


@pytest.fixture(autouse=True)
def _english_unless_asked():
    """Each test starts in English: a request in Chinese (Accept-Language, a user's choice) activates its
    language in the thread, which would otherwise carry into the next test's sentences."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


# --- Users and clients -----------------------------------------------------------------------------


def make_user(username: str, *roles: str):
    user = factories.UserFactory(username=username)
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


@pytest.fixture
def finance_user(db):
    return make_user("fiona.finance", "finance")


@pytest.fixture
def other_finance_user(db):
    return make_user("frank.finance", "finance")


@pytest.fixture
def compliance_user(db):
    return make_user("connie.compliance", "compliance")


@pytest.fixture
def management_user(db):
    return make_user("mandy.management", "management")


@pytest.fixture
def auditor_user(db):
    return make_user("arthur.auditor", "auditor")


@pytest.fixture
def norole_user(db):
    return make_user("nobody.norole")


@pytest.fixture
def role_users(finance_user, compliance_user, management_user, auditor_user, norole_user):
    return {
        "finance": finance_user,
        "compliance": compliance_user,
        "management": management_user,
        "auditor": auditor_user,
        "none": norole_user,
    }


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def finance_api(finance_user):
    return client_for(finance_user)


@pytest.fixture
def compliance_api(compliance_user):
    return client_for(compliance_user)


# --- The ledger ------------------------------------------------------------------------------------


@pytest.fixture
def ledger(db):
    """A connected person with two group companies, three independent suppliers, an agreement and
    a category whose term has two cap periods (a partial first period and a calendar year)."""
    return factories.Ledger.build_default()


# --- A real browser ------------------------------------------------------------------------------

ARTIFACTS = settings.BASE_DIR / "test-artifacts"


@pytest.fixture
def browser():
    """Debian's headless Chromium driven by Selenium, in English."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        "--window-size=1400,1000",
    ):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en,en_US"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()
