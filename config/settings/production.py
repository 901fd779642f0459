"""Production: the same settings as base, hardened. Refuses to start without its secrets.

Required: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL. Behind a proxy that terminates
TLS, set DJANGO_SECURE_PROXY_SSL_HEADER=true (the proxy must set X-Forwarded-Proto) and list the
public origins in DJANGO_CSRF_TRUSTED_ORIGINS.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, DATABASE_URL, LOG_LEVEL, SECRET_KEY, env

_missing = [
    name
    for name, value in (
        ("DJANGO_SECRET_KEY", SECRET_KEY),
        ("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS),
        ("DATABASE_URL", DATABASE_URL),
    )
    if not value
]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables, which are not set: " + ", ".join(_missing)
    )

# A short key, or one copied from an example or a development setting, signs sessions and password-reset
# links that anyone who knows it can forge: refuse to start rather than run with it.
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "insecure", "not-secret", "placeholder", "example", "your-secret")
if (
    len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 10
    or any(marker in SECRET_KEY.lower() for marker in _PLACEHOLDER_MARKERS)
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be at least 50 random characters, not a placeholder or a development value. "
        "Generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

DEBUG = False
CCT_REQUIRE_TWO_FACTOR_FOR_COMPLIANCE = env.bool("CCT_REQUIRE_TWO_FACTOR_FOR_COMPLIANCE", default=True)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTPS only, cookies included; the __Host- prefix pins cookies to this host and to HTTPS.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Static files are served by WhiteNoise from STATIC_ROOT (`manage.py collectstatic`), compressed and
# with hashed names that can be cached for ever.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False

# One JSON object per line on stdout.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logging.JsonLinesFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "pgtrigger": {"level": "WARNING"},
    },
}
