"""/healthz for load balancers and monitoring: is the database up, is the broker up, which one is not."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return f"down: {type(error).__name__}: {error}".strip()
    return "ok"


def _broker() -> str:
    # One attempt, bounded by the broker's socket timeouts (settings.REDIS_BROKER_OPTIONS): a Redis that
    # accepts and never answers is reported down within seconds instead of holding the request.
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=0, timeout=settings.CCT_BROKER_TIMEOUT_SECONDS)
            client = getattr(broker.default_channel, "client", None)
            if client is not None and hasattr(client, "ping"):
                client.ping()  # a round trip: connecting alone does not show that Redis answers
    except Exception as error:
        return f"down: {type(error).__name__}: {error}".strip()
    return "ok"


@never_cache
@require_GET
def healthz(request) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)
