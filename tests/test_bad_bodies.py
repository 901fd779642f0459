"""Bad bodies on every write endpoint of the API (contract v2, "Bad bodies"): a body nested deeper than
any resource needs, a list or a scalar where an object is expected, values of the wrong type, and fields
the caller may not set are each a 400 saying what is wrong, never a 500, and change nothing.

The operations come from the OpenAPI schema, so a resource added later is covered without a line here.
"""

import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from pypdf import PdfWriter
from rest_framework.test import APIClient

from compliance.models import AnnualCap, Breach
from tests.factories import UserFactory
from transactions.models import PurchaseOrder, TransactionCategory


def _write_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch"} and operation.get("requestBody")
    ]


OPERATIONS = _write_operations()


@pytest.fixture(scope="module")
def admin_api(django_db_setup, django_db_blocker):
    """The demo, one record of every resource it lacks, and an administrator's client; once for the
    module, rolled back at its end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_demo", verbosity=0)
            client = APIClient()
            client.force_authenticate(UserFactory(username="root", is_staff=True, is_superuser=True))
            _add_missing_records(client)
            yield client
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _add_missing_records(client: APIClient) -> None:
    hardware = TransactionCategory.objects.get(name="Network hardware")
    cap = AnnualCap.objects.filter(category=hardware).order_by("period_start").last()
    draft = PurchaseOrder.objects.filter(status=PurchaseOrder.Status.DRAFT).first() or PurchaseOrder.objects.first()
    created = [
        client.post("/api/alert-recipients/", {"threshold": "90.00", "email": "cfo@example.com"}, format="json"),
        client.post("/api/distribution-lists/", {"name": "Board", "members": ["board@example.com"]}, format="json"),
        client.post("/api/cap-revisions/", {"cap": cap.pk, "new_amount": "9000000.00", "reason": "More demand"},
                    format="json"),
        client.post("/api/renewals/", {"category": hardware.pk, "term_start": "2026-07-29", "term_end": "2027-07-28",
                                       "board_approved_on": "2026-06-30", "reference": "Board minutes 2026/6"},
                    format="json"),
        client.post("/api/terms-changes/", {"category": hardware.pk, "effective_from": "2026-05-01",
                                            "pricing_basis": "Cost plus 5%", "reason": "New pricing"}, format="json"),
        client.post("/api/quote-rule-exceptions/", {"purchase_order": draft.pk, "reason": "Only one supplier",
                                                    "evidence": _pdf()}, format="multipart"),
    ]  # fmt: skip
    for response in created:
        assert response.status_code == 201, response.content
    # The product opens breaches itself; one whose steps the bodies are sent to.
    Breach.objects.create(cap=cap, detected_on=cap.period_start, basis="actual", currency=cap.category.currency,
                          cap_amount=cap.amount, used_amount=cap.amount + 1, amount_over=1)  # fmt: skip


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return SimpleUploadedFile("evidence.pdf", out.getvalue(), content_type="application/pdf")


def concrete(client: APIClient, path: str) -> str:
    """The path with {id} replaced by a record that exists (the first of its list)."""
    if "{id}" not in path:
        return path
    listing = path.split("{id}")[0]
    records = client.get(listing).json()["results"]
    assert records, f"the demo has no record for {listing}"
    return path.replace("{id}", str(records[0]["id"]))


def send(client: APIClient, method: str, path: str, body: str):
    return getattr(client, method)(path, data=body, content_type="application/json")


def nested(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@pytest.mark.parametrize(
    "body",
    [nested(1000), nested(100_000), "[" * 5000 + "]" * 5000, "[]", "[{}]", '"text"', "42", "null", "{"],
    ids=["deep-1000", "deep-100000", "deep-list", "list", "list-of-object", "string", "number", "null", "broken"],
)
def test_a_body_that_is_not_an_object_of_bounded_depth_is_a_400(admin_api, db, method, path, body):
    response = send(admin_api, method, concrete(admin_api, path), body)

    assert response.status_code == 400, response.content[:300]
    assert "detail" in response.json()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_a_field_the_caller_may_not_set_is_a_400_naming_it(admin_api, db, method, path):
    for field in ("status", "created_by", "decided_by", "no_such_field"):
        response = send(admin_api, method, concrete(admin_api, path), json.dumps({field: 1}))
        if response.status_code == 400 and field in response.json():
            assert response.json()[field] == ["This field cannot be set."]
            continue
        # A field the resource lets this caller set (e.g. none here) would be validated instead.
        assert response.status_code == 400, (field, response.content[:300])
        assert field in response.json(), (field, response.json())


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_values_of_the_wrong_type_are_a_400(admin_api, db, method, path):
    target = concrete(admin_api, path)
    writable = [name for name in _fields(admin_api, target) if name not in ("id",)]
    for value in ({"nested": {"deeper": [1, 2]}}, [1, "two"], True):
        response = send(admin_api, method, target, json.dumps(dict.fromkeys(writable, value)))
        assert response.status_code == 400, (value, response.content[:300])


def _fields(client: APIClient, path: str) -> list[str]:
    """The fields the endpoint's OPTIONS says it takes on this method (POST or PUT)."""
    actions = client.options(path).json().get("actions", {})
    return [name for name, field in (actions.get("POST") or actions.get("PUT") or {}).items() if not field["read_only"]]


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/reports/directors/?half=0001-H1", "half"),
        ("/api/reports/monthly/?month=0001-01", "month"),
        ("/api/reports/annual-review/?year=1", "year"),
        ("/api/reports/directors/?half=9999-H2", "half"),
    ],
)
def test_a_report_period_at_the_ends_of_the_calendar_is_a_400_naming_it(compliance_api, path, parameter):
    # Found by the fuzzing run: the first half of year 1 reached the day before 1 January 1, a 500.
    response = compliance_api.get(path)

    assert response.status_code == 400
    assert parameter in response.json()
