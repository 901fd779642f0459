"""The production path, end to end (run by scripts/production-smoke, which CI runs).

1. A fresh virtual environment from requirements.lock alone (nothing of the development tools).
2. A throwaway PostgreSQL database, a redis-server of its own on a free port, an SMTP server (aiosmtpd).
3. With the production settings: migrate, collectstatic, then gunicorn, a Celery worker and Celery beat.
4. Through the HTTP API with tokens: finance enters an order taking a cap to 85% with its quotes (one
   with a PDF document), compliance approves it; the 80% alert must arrive by e-mail within a minute.

Everything it starts is stopped and everything it creates is removed, also when it fails; on failure
the logs of the processes are printed. Run by the development environment's Python (for aiosmtpd and
psycopg); the product itself runs only in the fresh environment.
"""

import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import psycopg
from aiosmtpd.controller import Controller
from pypdf import PdfWriter

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DATABASE_URL = os.environ.get("SMOKE_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
INSTALL_TIMEOUT = 600
MAIL_TIMEOUT = 90
RECIPIENT = "head.of.finance@example.com"

SETUP = """
import datetime, json
from decimal import Decimal
from django.contrib.auth.models import Group, User
from django.utils import timezone
from rest_framework.authtoken.models import Token
from compliance.models import AlertRecipient, AnnualCap
from transactions.models import ConnectedPerson, Counterparty, FrameworkAgreement, TransactionCategory

today = timezone.localdate()
users = {}
for role in ("finance", "compliance"):
    user = User.objects.create_user(f"smoke-{role}", f"smoke-{role}@example.com")
    user.groups.add(Group.objects.get(name=role))
    users[role] = Token.objects.create(user=user).key
person = ConnectedPerson.objects.create(
    name="Smoke Group", basis="Substantial shareholder", connected_from=datetime.date(2020, 1, 1))
agreement = FrameworkAgreement.objects.create(
    title="Smoke framework agreement", connected_person=person,
    signed_on=datetime.date(2020, 1, 1), board_approved_on=datetime.date(2020, 1, 1))
category = TransactionCategory.objects.create(
    agreement=agreement, name="Smoke services", currency="CNY",
    term_start=datetime.date(today.year, 1, 1), term_end=datetime.date(today.year, 12, 31))
AnnualCap.objects.create(category=category, period_start=category.term_start, period_end=category.term_end,
                         amount=Decimal("1000000.00"))
connected = Counterparty.objects.create(name="Smoke Group Ltd.", connected_person=person)
independents = [Counterparty.objects.create(name=f"Independent {c} Ltd.") for c in "AB"]
AlertRecipient.objects.create(threshold=Decimal("80.00"), email="@RECIPIENT@")
print("SMOKE " + json.dumps({
    "tokens": users, "category": category.pk, "connected": connected.pk,
    "independents": [s.pk for s in independents], "today": today.isoformat(),
}))
""".replace("@RECIPIENT@", RECIPIENT)


# The approval, as the database's triggers recorded it (audit.models), with the API user in its context.
AUDIT = """
from audit.models import RowChange
for change in RowChange.objects.filter(table_name="transactions_purchaseorder", row_id="@ORDER@",
                                       operation="UPDATE").select_related("context"):
    if (change.new_row or {}).get("status") == "approved":
        print("AUDIT approved by", change.who)
"""


def say(text: str) -> None:
    print(f"[production-smoke {time.strftime('%H:%M:%S')}] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    raise SystemExit(f"production-smoke: timed out after {timeout:.0f}s waiting for {what}")


class Mailbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


def request(base: str, method: str, path: str, token: str, body: dict | None = None, files=None):
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    data = None
    if files:
        boundary = uuid.uuid4().hex
        parts = io.BytesIO()
        for name, value in (body or {}).items():
            parts.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content, content_type) in files.items():
            parts.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n".encode()
            )
            parts.write(content + b"\r\n")
        parts.write(f"--{boundary}--\r\n".encode())
        data = parts.getvalue()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    call = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def expect(outcome, status: int, what: str):
    code, body = outcome
    if code != status:
        raise SystemExit(f"production-smoke: {what} answered {code}, expected {status}: {body}")
    return body


def tiny_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="cct-smoke-"))
    processes: dict[str, subprocess.Popen] = {}
    database = f"cct_smoke_{os.getpid()}_{secrets.token_hex(3)}"
    admin = psycopg.connect(ADMIN_DATABASE_URL, autocommit=True)
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
    failed = True
    try:
        venv = fresh_venv(work)
        python = str(venv / "bin/python")
        admin.execute(f'CREATE DATABASE "{database}"')
        redis_port, web_port = free_port(), free_port()
        processes["redis"] = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(work)],
            stdout=(work / "redis.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        smtp.start()
        env = production_env(work, database=database, redis_port=redis_port, smtp_port=smtp.port)

        say("release: migrate and collectstatic with the production settings")
        manage(python, env, "migrate", "--noinput")
        manage(python, env, "collectstatic", "--noinput")
        setup = manage(python, env, "shell", "-c", SETUP)
        facts = json.loads(next(line[6:] for line in setup.splitlines() if line[:6] == "SMOKE "))

        say("starting gunicorn, the Celery worker and Celery beat")
        web = start_product(venv, work, env, web_port=web_port, processes=processes)
        say(f"/healthz: {wait_for(lambda: healthy(web, processes), timeout=60, what='/healthz to answer 200')}")
        wait_for(lambda: "ready." in (work / "worker.log").read_text(), timeout=60, what="the worker to be ready")

        order = enter_and_approve(web, facts)
        check_alert_mail(smtp.handler)
        check_alert_recorded(web, facts["tokens"]["compliance"])
        check_audit_trail(python, env, order)
        failed = False
        say("passed: the production path works end to end")
        return 0
    finally:
        stop(processes, work, failed=failed)
        with contextlib.suppress(Exception):
            smtp.stop()
        with contextlib.suppress(Exception):
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
        shutil.rmtree(work, ignore_errors=True)


def fresh_venv(work: Path) -> Path:
    """A virtual environment with requirements.lock alone installed (nothing of the development tools)."""
    venv = work / "venv"
    say("building a fresh virtual environment from requirements.lock")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [venv / "bin/pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes",
         "-r", ROOT / "requirements.lock"],
        check=True, timeout=INSTALL_TIMEOUT,
    )  # fmt: skip
    return venv


def production_env(work: Path, *, database: str, redis_port: int, smtp_port: int) -> dict[str, str]:
    """The environment of the product's processes: the production settings, with this run's database, Redis,
    SMTP server and folders, and nothing of the caller's Django, database or mail settings."""
    (work / "var").mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "CCT_", "PYTHON", "VIRTUAL_ENV"))
    }
    base_url = ADMIN_DATABASE_URL.rsplit("/", 1)[0]
    env.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Plain HTTP between this script and gunicorn: in production the TLS proxy is in front.
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"{base_url}/{database}",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        CCT_VAR_DIR=str(work / "var"),
        PRIVATE_MEDIA_ROOT=str(work / "var/private"),
        STATIC_ROOT=str(work / "static"),
        DEFAULT_FROM_EMAIL="cct@example.com",
    )
    return env


def manage(python: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([python, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"production-smoke: manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def start_product(
    venv: Path, work: Path, env: dict[str, str], *, web_port: int, processes: dict[str, subprocess.Popen]
) -> str:
    """Start gunicorn, the Celery worker and Celery beat (added to `processes`); returns the web address."""
    for name, command in {
        "web": [venv / "bin/gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{web_port}", "--workers", "2",
                "--timeout", "60"],
        "worker": [venv / "bin/celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=1",
                   "--without-gossip", "--without-mingle"],
        "beat": [venv / "bin/celery", "-A", "config", "beat", "--loglevel=INFO",
                 "--schedule", str(work / "var/celerybeat-schedule")],
    }.items():  # fmt: skip
        processes[name] = subprocess.Popen(
            [str(part) for part in command], cwd=ROOT, env=env,
            stdout=(work / f"{name}.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
    return f"http://127.0.0.1:{web_port}"


def healthy(web: str, processes: dict[str, subprocess.Popen]):
    """/healthz's answer once it answers; stops the run if any process has exited."""
    for name, process in processes.items():
        if process.poll() is not None:
            raise SystemExit(f"production-smoke: {name} exited with {process.returncode}")
    try:
        with urllib.request.urlopen(web + "/healthz", timeout=5) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def enter_and_approve(web: str, facts: dict) -> dict:
    """Finance enters an order taking the cap to 85% with two quotes, each with its PDF; compliance approves it."""
    finance, compliance = facts["tokens"]["finance"], facts["tokens"]["compliance"]
    order = expect(
        request(web, "POST", "/api/purchase-orders/", finance, {
            "number": "SMOKE-1", "category": facts["category"], "counterparty": facts["connected"],
            "order_date": facts["today"], "amount": "850000.00", "currency": "CNY",
        }),
        201, "creating the order",
    )  # fmt: skip
    expect(
        request(web, "POST", "/api/quotes/", finance, {
            "purchase_order": order["id"], "supplier": facts["independents"][0], "quoted_on": facts["today"],
            "amount": "870000.00", "currency": "CNY",
        }, files={"document": ("quote-a.pdf", tiny_pdf(), "application/pdf")}),
        201, "adding a quote with its PDF",
    )  # fmt: skip
    expect(
        request(web, "POST", "/api/quotes/", finance, {
            "purchase_order": order["id"], "supplier": facts["independents"][1], "quoted_on": facts["today"],
            "amount": "880000.00", "currency": "CNY",
        }, files={"document": ("quote-b.pdf", tiny_pdf(), "application/pdf")}),
        201, "adding a second quote with its PDF",
    )  # fmt: skip
    approved = expect(request(web, "POST", f"/api/purchase-orders/{order['id']}/approve/", compliance), 200,
                      "approving the order")  # fmt: skip
    say(f"order {approved['number']} approved; waiting for the 80% alert e-mail")
    return order


def check_alert_mail(mailbox: Mailbox) -> None:
    wait_for(lambda: mailbox.messages, timeout=MAIL_TIMEOUT, what="the alert e-mail")
    recipients, message = mailbox.messages[0]
    if recipients != [RECIPIENT] or "80" not in message["Subject"]:
        raise SystemExit(f"production-smoke: unexpected e-mail to {recipients}: {message['Subject']}")
    say(f"e-mail received by {recipients[0]}: {message['Subject']}")


def check_alert_recorded(web: str, compliance: str) -> None:
    """The API lists the alert marked sent, with its one delivery to the recipient."""

    def alert_sent():
        alerts = expect(request(web, "GET", "/api/alerts/", compliance), 200, "listing alerts")["results"]
        return alerts and all(alert["sent_at"] for alert in alerts) and alerts

    alerts = wait_for(alert_sent, timeout=30, what="the alert to be marked sent")
    deliveries = [(d["email"], bool(d["sent_at"])) for alert in alerts for d in alert["deliveries"]]
    if deliveries != [(RECIPIENT, True)]:
        raise SystemExit(f"production-smoke: unexpected deliveries {deliveries}")
    say(f"{len(alerts)} alert(s) recorded and marked sent, delivered to {RECIPIENT}")


def check_audit_trail(python: str, env: dict[str, str], order: dict) -> None:
    trail = manage(python, env, "shell", "-c", AUDIT.replace("@ORDER@", str(order["id"])))
    if "AUDIT approved by smoke-compliance" not in trail:
        raise SystemExit(f"production-smoke: the database's audit trail lacks the approval: {trail}")
    say("the database's audit trail recorded the approval with the user of the token")


def stop(processes: dict[str, subprocess.Popen], work: Path, *, failed: bool) -> None:
    """Stop the processes, last started first; on failure print the end of each one's log."""
    for name, process in reversed(list(processes.items())):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if failed and (work / f"{name}.log").exists():
            print(f"----- {name}.log (last 60 lines) -----", file=sys.stderr)
            print("\n".join((work / f"{name}.log").read_text().splitlines()[-60:]), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
