"""Sign-in lockout behind a proxy: failures lock the combination of user name and client address, a
user name alone only at its own higher limit, and the client address comes from X-Forwarded-For only
as far as the trusted proxies vouch for it."""

import pytest
from django.test import RequestFactory

from accounts.lockout import client_address

PASSWORD = "a-long-password-for-tests"
PROXY = "127.0.0.1"  # nginx on the same host: every request reaches gunicorn from here


@pytest.fixture
def officer(compliance_user):
    compliance_user.set_password(PASSWORD)
    compliance_user.save()
    return compliance_user


@pytest.fixture
def behind_nginx(settings):
    settings.CCT_TRUSTED_PROXIES = 1
    settings.AXES_FAILURE_LIMIT = 5
    settings.CCT_LOGIN_USERNAME_FAILURE_LIMIT = 12
    return settings


def sign_in(client, username, password, *, client_ip, forwarded_prefix=""):
    """A sign-in through nginx: X-Forwarded-For is whatever the client sent, then the address nginx saw."""
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{forwarded_prefix}{client_ip}",
    )


def test_six_failures_for_an_unknown_user_do_not_stop_real_users_behind_the_same_proxy(client, officer, behind_nginx):
    for _ in range(6):
        sign_in(client, "made-up-name", "wrong-password-123", client_ip="203.0.113.9")
    assert sign_in(client, "made-up-name", "wrong-password-123", client_ip="203.0.113.9").status_code == 429

    # From another address and from the attacker's own: the real user's name was never attacked.
    assert sign_in(client, officer.username, PASSWORD, client_ip="198.51.100.7").status_code == 302
    client.logout()
    assert sign_in(client, officer.username, PASSWORD, client_ip="203.0.113.9").status_code == 302


def test_five_failures_lock_that_user_from_that_address_only(client, officer, behind_nginx):
    for _ in range(5):
        sign_in(client, officer.username, "wrong-password-123", client_ip="203.0.113.9")

    assert sign_in(client, officer.username, PASSWORD, client_ip="203.0.113.9").status_code == 429
    assert sign_in(client, officer.username, PASSWORD, client_ip="198.51.100.7").status_code == 302


def test_a_client_cannot_escape_the_lockout_by_writing_its_own_forwarded_addresses(client, officer, behind_nginx):
    for attempt in range(5):
        sign_in(client, officer.username, "wrong-password-123", client_ip="203.0.113.9",
                forwarded_prefix=f"10.0.0.{attempt}, ")  # fmt: skip

    assert (
        sign_in(client, officer.username, PASSWORD, client_ip="203.0.113.9", forwarded_prefix="10.9.9.9, ").status_code
        == 429
    )


def test_a_user_name_attacked_from_many_addresses_is_locked_at_its_own_higher_limit(client, officer, behind_nginx):
    # 12 failures in all, 4 from each of three addresses: no combination reaches 5.
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        for _ in range(4):
            sign_in(client, officer.username, "wrong-password-123", client_ip=address)

    assert sign_in(client, officer.username, PASSWORD, client_ip="198.51.100.7").status_code == 429


def test_eleven_failures_from_many_addresses_do_not_lock_the_user_name(client, officer, behind_nginx):
    for address, count in (("203.0.113.1", 4), ("203.0.113.2", 4), ("203.0.113.3", 3)):
        for _ in range(count):
            sign_in(client, officer.username, "wrong-password-123", client_ip=address)

    assert sign_in(client, officer.username, PASSWORD, client_ip="198.51.100.7").status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", PROXY),  # no trusted proxy: the header is the client's word, ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "10.0.0.1, 203.0.113.9", "203.0.113.9"),  # what the client wrote itself is to the left
        (2, "10.0.0.1, 203.0.113.9, 192.0.2.10", "203.0.113.9"),  # a load balancer, then nginx
        (2, "203.0.113.9", PROXY),  # fewer addresses than proxies: it did not come through them all
        (1, "", PROXY),
    ],
)
def test_the_client_address_is_read_through_the_trusted_proxies_only(settings, proxies, forwarded, expected):
    settings.CCT_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected
