"""Small foot-guns: deleting a threshold that distribution lists receive, and production started with a
short or placeholder secret key."""

from decimal import Decimal

import pytest

from compliance.models import AlertThreshold, DistributionList
from tests.test_security import PRODUCTION_ENV, manage


@pytest.fixture
def management_list(db):
    threshold = AlertThreshold.objects.get(percent=Decimal("80.00"))
    board = DistributionList.objects.create(name="Senior management")
    board.thresholds.add(threshold)
    return board, threshold


def test_the_default_threshold_cannot_be_deleted_while_lists_receive_its_alerts(compliance_api, management_list):
    board, threshold = management_list

    response = compliance_api.delete(f"/api/alert-thresholds/{threshold.pk}/")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "threshold_in_use"
    assert "80.00% threshold cannot be deleted" in body["detail"] and "Senior management" in body["detail"]
    assert AlertThreshold.objects.filter(pk=threshold.pk).exists()
    assert list(board.thresholds.all()) == [threshold]


def test_a_threshold_no_list_receives_can_be_deleted(compliance_api, management_list):
    ninety = AlertThreshold.objects.create(percent=Decimal("90.00"))

    assert compliance_api.delete(f"/api/alert-thresholds/{ninety.pk}/").status_code == 204
    assert not AlertThreshold.objects.filter(pk=ninety.pk).exists()


def test_the_admin_offers_no_deletion_of_a_threshold_lists_receive(client, management_list, compliance_user):
    _, threshold = management_list
    client.force_login(compliance_user)

    response = client.post(f"/admin/compliance/alertthreshold/{threshold.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert AlertThreshold.objects.filter(pk=threshold.pk).exists()


@pytest.mark.parametrize(
    "key",
    [
        "short-but-random-7f3a9c1e5b2d",  # under 50 characters
        "change-me-to-50-random-characters-0123456789abcdefghij",  # the example file's, lengthened
        "development-only-not-secret-7f3a9c1e5b2d4a6f8e0c-and-some-more",  # the development default
        "a" * 64,  # long, and not random at all
    ],
)
def test_production_refuses_a_short_or_placeholder_secret_key(key):
    result = manage("check", env={**PRODUCTION_ENV, "DJANGO_SECRET_KEY": key})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be at least 50 random characters" in result.stderr


def test_production_starts_with_a_long_random_secret_key():
    assert manage("check", env=PRODUCTION_ENV).returncode == 0
