"""Schema-driven fuzzing of the API (schemathesis): for every operation of the OpenAPI schema, generated
requests — valid and invalid — as each role, on the demo data. No request may cause a server error,
and every response must be one the schema documents, with a body that matches it."""

import json
import os

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import UserFactory

ROLES = ("finance", "compliance", "management", "auditor")
# Per operation, each sent as every role. Under CI a larger run with a new random seed each time (it
# explores further with every run, about 3 minutes); elsewhere a smaller, repeatable one (about 45 s).
# CCT_FUZZ_EXAMPLES overrides the number, e.g. for a long run before a release.
IN_CI = os.environ.get("CI", "").lower() == "true"
EXAMPLES = int(os.environ.get("CCT_FUZZ_EXAMPLES") or (30 if IN_CI else 8))


@pytest.fixture(scope="module")
def role_tokens(django_db_setup, django_db_blocker):
    """The demo and a user with a token per role, once for the module, rolled back at its end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_demo", verbosity=0)
            tokens = {}
            for role in ROLES:
                user = UserFactory(username=f"fuzz.{role}")
                user.groups.add(Group.objects.get(name=role))
                tokens[role] = Token.objects.create(user=user).key
            yield tokens
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# The schema as /api/schema/ serves it to a signed-in user, generated here (the endpoint needs a sign-in).
schema = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
)
schema.app = get_wsgi_application()
# Generated requests only: the coverage phase would add every boundary case of every parameter.
schema.config.phases.update(phases=["examples", "fuzzing"])


@pytest.fixture
def keep_connection():
    """The WSGI handler closes the database connection after each request; inside a test transaction it
    must stay open (Django's test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not IN_CI,
    database=None,  # nothing written into the work tree; a failure prints its request to reproduce it
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_causes_a_server_error_or_contradicts_the_schema(case, role_tokens, db, keep_connection):
    for role in ROLES:  # the same generated request, as each role
        case.call_and_validate(
            headers={"Authorization": f"Token {role_tokens[role]}"},
            checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        )
