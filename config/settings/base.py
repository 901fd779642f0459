"""Settings shared by every environment.

Everything configurable is read here, once, from the environment (see README, "Configuration").
`development`, `test` and `production` only choose defaults or harden.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime data of a local installation (SQLite file, uploaded quotes, mail files, the local broker).
VAR_DIR = Path(environ.Env().str("CCT_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

# --- Secrets and hosts --------------------------------------------------------------------------
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
DEBUG = env.bool("DJANGO_DEBUG", default=False)

# --- Database -----------------------------------------------------------------------------------
# Unset DATABASE_URL means the embedded default: a SQLite file under var/.
DATABASE_URL = env.str("DATABASE_URL", default="")
DATABASES = {
    "default": env.db_url_config(DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock when a transaction begins, so two approvals cannot both
    # read the same headroom (SQLite has no SELECT ... FOR UPDATE).
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications -------------------------------------------------------------------------------
INSTALLED_APPS = [
    "compliance.apps.ComplianceAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "pgtrigger",
    "pghistory",
    "audit",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "transactions",
    "compliance",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # A signed-in user's chosen language wins over the browser's (accounts.language).
    "accounts.language.UserLanguageMiddleware",
    "accounts.access.AccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the logged-in user on every history row written during a request ...
    "simple_history.middleware.HistoryRequestMiddleware",
    # ... and, on PostgreSQL, in the context of every change the database's triggers record.
    "audit.context.AuditContextMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Sign-in and sessions (ASVS 6 and 7) -----------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses sign-in while an account is locked out
    "django.contrib.auth.backends.ModelBackend",  # also ends the sessions of a deactivated user
]
# After AXES_FAILURE_LIMIT failed sign-ins for one user name from one client address, that combination
# is locked out for CCT_LOCKOUT_MINUTES; failures of a user name from every address together lock the
# name at the higher CCT_LOGIN_USERNAME_FAILURE_LIMIT (accounts.lockout). Counting per address alone
# would let anyone lock out everyone behind the same proxy; per name alone, lock out any user.
AXES_FAILURE_LIMIT = env.int("CCT_LOGIN_FAILURE_LIMIT", default=5)
CCT_LOGIN_USERNAME_FAILURE_LIMIT = env.int("CCT_LOGIN_USERNAME_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CCT_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "accounts.lockout.LockoutHandler"
# The client's address: REMOTE_ADDR, or behind CCT_TRUSTED_PROXIES proxies (nginx in front of gunicorn
# is 1) the address the outermost of them saw, from X-Forwarded-For.
CCT_TRUSTED_PROXIES = env.int("CCT_TRUSTED_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Idle timeout: a session unused for this long ends (every request renews it) ...
SESSION_COOKIE_AGE = 60 * env.int("CCT_SESSION_IDLE_MINUTES", default=30)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# ... and none lasts longer than this, however busy (accounts.access.AccessMiddleware).
CCT_SESSION_MAX_HOURS = env.int("CCT_SESSION_MAX_HOURS", default=12)
# Compliance users must sign in with an authenticator app (TOTP) when this is on; others may.
CCT_REQUIRE_TWO_FACTOR_FOR_COMPLIANCE = env.bool("CCT_REQUIRE_TWO_FACTOR_FOR_COMPLIANCE", default=False)
OTP_TOTP_ISSUER = "CCT compliance tracker"
LOGIN_URL = "admin:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time --------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hant", "繁體中文"), ("zh-hans", "简体中文")]
# Number and date formats per language (config/formats): money keeps its thousands separators in Chinese.
FORMAT_MODULE_PATH = ["config.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Hong_Kong")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

# --- Static files and private uploads -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Outside production WhiteNoise serves static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
# Quote documents are inside information: stored outside any served folder, handed out only by a
# view that checks the user (see transactions.views.quote_document).
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
QUOTE_DOCUMENT_MAX_BYTES = env.int("QUOTE_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
FILE_UPLOAD_PERMISSIONS = 0o640
# Uploads bigger than this go to a temporary file rather than memory; the size rule is checked
# before the file is stored.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Compliance defaults ------------------------------------------------------------------------
# The threshold every cap alerts at; compliance adds further thresholds in the admin.
CCT_DEFAULT_ALERT_THRESHOLD = Decimal(env.str("CCT_DEFAULT_ALERT_THRESHOLD", default="80.00"))
# Base address used in e-mails for links into the admin. Without it, the address `make run` serves
# (CCT_ADDRESS, host:port; a wildcard host is linked as 127.0.0.1).
CCT_ADDRESS = env.str("CCT_ADDRESS", default="127.0.0.1:8000")


def _served_url(address: str) -> str:
    host, _, port = address.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 (a link, not a bind)
        host = "127.0.0.1"
    return f"http://{host}:{port or '8000'}"


CCT_SITE_URL = env.str("CCT_SITE_URL", default=_served_url(CCT_ADDRESS))
# E-mail delivery (compliance.delivery.outbox): how long a worker may hold a message it is sending before
# another may take it over, and the backoff after a failed attempt (doubling up to the maximum).
CCT_SEND_LEASE_SECONDS = env.int("CCT_SEND_LEASE_SECONDS", default=300)
CCT_SEND_BACKOFF_SECONDS = env.int("CCT_SEND_BACKOFF_SECONDS", default=60)
CCT_SEND_BACKOFF_MAX_SECONDS = env.int("CCT_SEND_BACKOFF_MAX_SECONDS", default=3600)
# Headroom forecast: days of a period that must have passed before its run rate is extrapolated.
CCT_FORECAST_MIN_DAYS = env.int("CCT_FORECAST_MIN_DAYS", default=14)
# Term watch: how many days before a term ends compliance is warned.
# An evidence binder with more files than this is built by the worker (202 with its progress) rather than
# in the request.
CCT_EVIDENCE_INLINE_MAX_FILES = env.int("CCT_EVIDENCE_INLINE_MAX_FILES", default=200)
CCT_TERM_WARNING_DAYS = env.int("CCT_TERM_WARNING_DAYS", default=90)
# Reports reading more orders than this (a PDF weighing CCT_REPORT_PDF_WEIGHT times a workbook) are built
# by the worker as a ReportJob rather than in the request (compliance.jobs.report_jobs): about 2 s of work.
CCT_REPORT_SYNC_ORDERS = env.int("CCT_REPORT_SYNC_ORDERS", default=2000)
CCT_REPORT_PDF_WEIGHT = env.int("CCT_REPORT_PDF_WEIGHT", default=6)
# A report job may take longer than the other tasks (a year of 100,000-order months as a PDF); it is
# acknowledged on receipt, so the broker's visibility timeout does not bound it.
CCT_REPORT_JOB_TIME_LIMIT = env.int("CCT_REPORT_JOB_TIME_LIMIT", default=3600)

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["transactions.permissions.RoleModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "transactions.api_errors.exception_handler",
    # A body is one JSON object of bounded depth (or a form): anything else is a 400, never a 500.
    "DEFAULT_PARSER_CLASSES": [
        "transactions.parsers.JSONObjectParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
    # ISO 8601 (YYYY-MM-DD with four-digit years, even before 1000; strftime would write "326-10-25").
    "DATE_FORMAT": "iso-8601",
    "DATE_INPUT_FORMATS": ["%Y-%m-%d"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Connected-transaction compliance tracker API",
    "DESCRIPTION": "Framework agreements, annual caps, purchase orders and their approval gates.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "transactions.api_errors.document_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CurrencyEnum": "transactions.currencies.CURRENCY_CHOICES",
        # Renewals and changes of terms share their statuses (pending, effective).
        "RecomplianceStatusEnum": "transactions.models.CategoryRenewal.Status",
        # Purchase and sales orders share their statuses (draft, approved, cancelled).
        "OrderStatusEnum": "transactions.models.PurchaseOrder.Status",
        # Imports, report jobs and evidence binders share their statuses (queued, running, done, failed).
        "BackgroundStatusEnum": "compliance.models.Import.Status",
    },
}

# --- Audit trail --------------------------------------------------------------------------------
# History is evidence: nobody reverts it through the admin.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# The database's own trail (PostgreSQL): triggers on the ledger's tables (audit.triggers), installed by
# `migrate` rather than by migrations of the apps they watch; the context of each change (user or
# command) is pghistory's.
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True
PGHISTORY_JSON_ENCODER = "audit.context.ContextEncoder"

# --- Background jobs (Celery) -------------------------------------------------------------------
# With REDIS_URL, Redis is the broker. Without it, a folder on disk is: a worker still runs and
# nothing needs a server (kombu's filesystem transport).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_DIR = VAR_DIR / "broker"
# A Redis that accepts connections and never answers (paused, a half-open network path) must not hold
# a request: every connect and every read gives up after these seconds, and publishing does not
# retry (max_retries 0), so an approval waits at most about one timeout for the queue.
CCT_BROKER_TIMEOUT_SECONDS = env.float("CCT_BROKER_TIMEOUT_SECONDS", default=2.0)
REDIS_BROKER_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": CCT_BROKER_TIMEOUT_SECONDS,
    "socket_timeout": CCT_BROKER_TIMEOUT_SECONDS,
    "max_retries": 0,
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task not acknowledged within the visibility timeout is handed out again: it stays above the
    # longest task (CELERY_TASK_TIME_LIMIT). Publishing tries once and gives up, so an approval never
    # waits on a Redis that is down or silent (the outbox sweep sends what was not queued).
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_OPTIONS
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = CCT_BROKER_TIMEOUT_SECONDS
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Below the broker's visibility timeout, so a running task is never handed out a second time.
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- E-mail -------------------------------------------------------------------------------------
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cct-tracker@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_HOST:
    # Django's SMTP backend, keeping the recipients the server refused (per-recipient delivery).
    EMAIL_BACKEND = "compliance.delivery.mail.EmailBackend"
else:
    # No mail server configured: every message is written to a file under var/mail, never lost.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

# --- Logging ------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},  # not its version banner at every start
        "pgtrigger": {"level": "WARNING"},  # not a line per trigger at every migrate
        "kombu.connection": {"level": "ERROR"},  # the folder broker of `make run` has no host to name
    },
}
