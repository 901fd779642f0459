"""Production: the same settings as base, hardened. Refuses to start without its secrets."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, DATABASE_URL, SECRET_KEY

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
    raise ImproperlyConfigured("Production settings need these environment variables: " + ", ".join(_missing))

DEBUG = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
