"""Who or what is changing the database, for the triggers' audit trail (audit.models).

pghistory passes the context to PostgreSQL with each statement; on another database there are no
triggers to read it, so nothing is done there.
"""

import contextlib
import getpass
import os
import threading
from collections.abc import Iterator

import django
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import HttpRequest

# Commands that only change the schema or serve requests (which carry their own context).
UNTRACKED_COMMANDS = {"migrate", "makemigrations", "sqlmigrate", "runserver", "test", "check", "collectstatic"}


@contextlib.contextmanager
def audit_context(**metadata: object) -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    import pghistory

    with pghistory.context(**metadata):
        yield


def command_context(argv: list[str]) -> contextlib.AbstractContextManager:
    """The context of a management command: its name and arguments and the system user who ran it."""
    if len(argv) < 2 or argv[1] in UNTRACKED_COMMANDS or argv[1].startswith("-"):
        return contextlib.nullcontext()
    for position, arg in enumerate(argv):  # settings chosen on the command line, as Django would
        if arg.startswith("--settings="):
            os.environ["DJANGO_SETTINGS_MODULE"] = arg.split("=", 1)[1]
        elif arg == "--settings" and position + 1 < len(argv):
            os.environ["DJANGO_SETTINGS_MODULE"] = argv[position + 1]
    django.setup()
    try:
        system_user = getpass.getuser()
    except (KeyError, OSError):
        system_user = "unknown"
    return audit_context(command=" ".join(argv[1:]), system_user=system_user, pid=os.getpid())


_running = threading.local()  # the context of the task each worker thread is running


def task_started(task=None, **kwargs) -> None:
    """Celery task_prerun: what a background job writes is marked with the job's task name."""
    context = audit_context(task=getattr(task, "name", "unknown"))
    context.__enter__()
    _running.contexts = [*getattr(_running, "contexts", []), context]


def task_finished(**kwargs) -> None:
    """Celery task_postrun (also after a failure)."""
    contexts = getattr(_running, "contexts", [])
    if contexts:
        contexts.pop().__exit__(None, None, None)


def running_task_contexts() -> int:
    return len(getattr(_running, "contexts", []))


class RequestUser:
    """The request's user as known when a statement runs: the session's at once, an API token's once
    the API has authenticated it (DRF sets it on the request). Serialised by ContextEncoder."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def resolve(self) -> dict | None:
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return {"id": user.pk, "username": user.get_username()}


class ContextEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, RequestUser):
            return o.resolve()
        return super().default(o)


class AuditContextMiddleware:
    """Every request's writes carry the request and its user (signed in, or by API token)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.method in {"GET", "HEAD", "OPTIONS"}:
            return self.get_response(request)
        with audit_context(url=request.path, method=request.method, user=RequestUser(request)):
            return self.get_response(request)
