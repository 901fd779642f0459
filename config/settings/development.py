"""Local use: `make run` on a laptop. Embedded defaults, nothing to configure."""

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, SECRET_KEY, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A development key is acceptable only here; production refuses to start without its own.
SECRET_KEY = SECRET_KEY or "development-only-not-secret-7f3a9c1e5b2d4a6f8e0c"
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]

for folder in ("private", "mail", "broker", "broker/processed", "broker/control", "static"):
    (VAR_DIR / folder).mkdir(parents=True, exist_ok=True)
STATIC_ROOT = VAR_DIR / "static"
