"""Production readiness and access controls: settings, sign-in lockout, sessions, two-factor sign-in,
the health check."""

import datetime
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.access import LOGIN_AT
from tests.processes import RedisServer, broker

PASSWORD = "a-long-password-for-tests"
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x7Kq9-production-like-secret-for-the-deploy-check-3fJ2mZp8Lw4vRt6Ys1Nc5Hd0",
    "DJANGO_ALLOWED_HOSTS": "cct.example.com",
    "DATABASE_URL": "postgres://cct@db.example.com:5432/cct",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CCT_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env={**clean, **env}, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_deployment_check_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_a_secret_and_names_it(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert f"need these environment variables, which are not set: {missing}" in result.stderr


@pytest.mark.parametrize(
    ("address", "link"),
    [(None, "http://127.0.0.1:8000"), ("127.0.0.1:8123", "http://127.0.0.1:8123"),
     ("0.0.0.0:9000", "http://127.0.0.1:9000"), ("cct.local:8080", "http://cct.local:8080")],
)  # fmt: skip
def test_e_mail_links_point_where_make_run_serves_unless_the_site_url_says_otherwise(address, link):
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.development"} | ({"CCT_ADDRESS": address} if address else {})
    show = "from django.conf import settings as s; print(s.CCT_SITE_URL)"

    assert manage("shell", "-c", show, env=env).stdout.splitlines()[-1] == link
    explicit = manage("shell", "-c", show, env=env | {"CCT_SITE_URL": "https://cct.example.com"})
    assert explicit.stdout.splitlines()[-1] == "https://cct.example.com"


def test_production_cookies_are_https_only_and_host_bound():
    result = manage(
        "shell", "-c",
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SESSION_COOKIE_NAME, s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_REFERRER_POLICY, "
        "s.STORAGES['staticfiles']['BACKEND'].startswith('whitenoise'))",
        env={**PRODUCTION_ENV, "DJANGO_SECURE_PROXY_SSL_HEADER": "true"},
    )  # fmt: skip

    assert result.stdout.split()[-6:] == ["True", "True", "__Host-sessionid", "True", "same-origin", "True"]


def test_production_logs_are_json_lines():
    result = manage(
        "shell", "-c", "import logging; logging.getLogger('cct').warning('hello %s', '世界')", env=PRODUCTION_ENV
    )

    line = next(line for line in result.stderr.splitlines() if '"logger": "cct"' in line)
    assert '"level": "WARNING"' in line and '"message": "hello 世界"' in line


# --- Sign-in ----------------------------------------------------------------------------------------


def sign_in(client, username, password, **extra):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password, **extra})


@pytest.fixture
def officer(compliance_user):
    compliance_user.set_password(PASSWORD)
    compliance_user.save()
    return compliance_user


def test_an_account_is_locked_after_repeated_failed_sign_ins_even_with_the_right_password(client, officer):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, officer.username, "wrong-password-123").status_code == 200
    assert sign_in(client, officer.username, "wrong-password-123").status_code == 429  # the last one allowed

    locked = sign_in(client, officer.username, PASSWORD)

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_fewer_failures_than_the_limit_do_not_lock_the_account(client, officer):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, officer.username, "wrong-password-123")

    assert sign_in(client, officer.username, PASSWORD).status_code == 302


def test_passwords_must_be_long_and_not_common(db):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("short1!", "password1234"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("correct horse battery staple")


def test_sessions_end_when_idle_and_after_their_maximum_lifetime(client, officer):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    assert sign_in(client, officer.username, PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200

    session = client.session
    session[LOGIN_AT] = (
        timezone.now() - datetime.timedelta(hours=settings.CCT_SESSION_MAX_HOURS, minutes=1)
    ).isoformat()
    session.save()

    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert "_auth_user_id" not in client.session


def test_a_deactivated_user_loses_their_session_at_once(client, officer):
    sign_in(client, officer.username, PASSWORD)
    get_user_model().objects.filter(pk=officer.pk).update(is_active=False)

    assert client.get("/admin/").status_code == 302
    assert client.get("/api/caps/").status_code == 401


# --- Two-factor sign-in ---------------------------------------------------------------------------


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def test_a_user_with_an_authenticator_must_give_its_code_to_sign_in(client, officer):
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)

    without = sign_in(client, officer.username, PASSWORD)
    right = sign_in(client, officer.username, PASSWORD, otp_token=code(device))

    assert without.status_code == 200 and "Enter the 6-digit code" in without.content.decode()
    assert right.status_code == 302


def test_a_wrong_authenticator_code_keeps_the_user_out(client, officer):
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    wrong = f"{(int(code(device)) + 1) % 1000000:06d}"

    response = sign_in(client, officer.username, PASSWORD, otp_token=wrong)

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_when_enforced_a_compliance_user_sets_up_an_authenticator_before_anything_else(client, officer, settings):
    settings.CCT_REQUIRE_TWO_FACTOR_FOR_COMPLIANCE = True
    assert sign_in(client, officer.username, PASSWORD).status_code == 302

    kept_out = client.get("/admin/transactions/purchaseorder/")
    api = client.get("/api/caps/")
    setup = client.get("/account/two-factor/")

    assert kept_out.status_code == 302 and kept_out["Location"].startswith("/account/two-factor/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    assert "<svg" in setup.content.decode() and 'id="totp-secret"' in setup.content.decode()
    device = TOTPDevice.objects.get(user=officer)
    assert not device.confirmed

    confirmed = client.post("/account/two-factor/?next=/admin/transactions/purchaseorder/", {"token": code(device)})

    assert confirmed.status_code == 302
    assert client.get("/admin/transactions/purchaseorder/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_enforcement_leaves_the_other_roles_alone(client, finance_user, settings):
    settings.CCT_REQUIRE_TWO_FACTOR_FOR_COMPLIANCE = True
    finance_user.set_password(PASSWORD)
    finance_user.save()

    sign_in(client, finance_user.username, PASSWORD)

    assert client.get("/admin/transactions/purchaseorder/").status_code == 200


# --- Health -----------------------------------------------------------------------------------------


def test_the_health_check_answers_ok_when_the_database_and_broker_are_up(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.redis
def test_the_health_check_says_the_broker_is_down_when_redis_stops(client, db, tmp_path):
    redis = RedisServer(tmp_path).start()
    with broker(redis.url, settings.REDIS_BROKER_OPTIONS):
        assert client.get("/healthz").json()["broker"] == "ok"
        redis.stop()

        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("down", "ok")
    assert body["broker"].startswith("down:") and "Connection refused" in body["broker"]
