"""The test suite.

PostgreSQL is used when it answers on its usual local port (or where DATABASE_URL says); otherwise
the suite runs on SQLite. The delivery tests start Redis servers, Celery workers and an SMTP server
of their own. Tests whose service is missing are skipped with a message (tests/conftest.py), except
under CI=true, where nothing is skipped.
"""

import socket
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASE_URL, DATABASES, env


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


PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_tmp = Path(tempfile.mkdtemp(prefix="cct-test-"))
PRIVATE_MEDIA_ROOT = _tmp / "private"
STATIC_ROOT = _tmp / "static"
STATIC_ROOT.mkdir()
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
