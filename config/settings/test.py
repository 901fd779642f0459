"""The test suite.

PostgreSQL and Redis are used when they answer on their usual local ports (or when DATABASE_URL
and REDIS_URL say where they are); otherwise the suite runs on SQLite and the tests that need the
real services are skipped with a message (tests/conftest.py). Under CI=true nothing is skipped.
"""

import socket
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASE_URL, DATABASES, REDIS_URL, env


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

if not DATABASE_URL and env.bool("TEST_USE_POSTGRES", default=True) and _answers("127.0.0.1", 5432):
    DATABASES["default"] = env.db_url_config("postgres://postgres@127.0.0.1:5432/cct")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # An in-memory database per test run; the file name in DATABASE_URL does not matter here.
    DATABASES["default"]["NAME"] = ":memory:"
    DATABASES["default"]["TEST"] = {"NAME": None}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 0

TEST_REDIS_URL = REDIS_URL or ("redis://127.0.0.1:6379/15" if _answers("127.0.0.1", 6379) else "")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_tmp = Path(tempfile.mkdtemp(prefix="cct-test-"))
PRIVATE_MEDIA_ROOT = _tmp / "private"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
