"""Real collaborators for the delivery tests: an SMTP server (aiosmtpd), a Redis server of the test's
own (so it can be stopped without disturbing anyone), Celery worker processes, and a way to point
this process's Celery app at a broker."""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = settings.BASE_DIR


def free_port() -> int:
    # aiosmtpd and redis-server cannot be told to pick a port themselves.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float = 30, every: float = 0.1, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what or condition}")


class SmtpServer:
    """An SMTP server on localhost that keeps what it receives. It can refuse mail (451, a temporary
    failure), or single recipients with an answer of the test's choice, and can hold a message for a
    while after receiving it, before answering."""

    def __init__(self) -> None:
        self.port = free_port()
        self.envelopes: list[tuple[list[str], EmailMessage]] = []
        self.refuse = False
        # Addresses refused one by one, with the whole answer (e.g. "550 5.1.1 No such user").
        self.refuse_recipients: dict[str, str] = {}
        self.hold_seconds = 0.0
        self.received = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "451 4.3.0 Mail server busy, try again later"
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.envelopes.append((list(envelope.rcpt_tos), message))
        self.received.set()
        if self.hold_seconds:
            await asyncio.sleep(self.hold_seconds)
        return "250 Message accepted for delivery"

    def deliveries_to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.envelopes if address in recipients]

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class RedisServer:
    """A redis-server process on a free port, keeping nothing on disk; stop() and start() again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._answers, timeout=10, what="redis-server to answer")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        wait_for(lambda: not self._answers(), timeout=10, what="redis-server to stop")


class Worker:
    """`celery -A config worker` in a process of its own, on the test database."""

    def __init__(self, name: str, env: dict[str, str], logdir: Path) -> None:
        self.name = name
        self.log = logdir / f"{name}.log"
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{self.name}@%h",
             f"--logfile={self.log}"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(lambda: self.log.exists() and "ready." in self.log.read_text(), timeout=60, what=f"{self.name}")
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to finish, acknowledge or clean up."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


def worker_environment(*, broker_url: str | None, smtp: SmtpServer | None, var_dir: Path) -> dict[str, str]:
    """The environment of a worker process: development settings on the test database."""
    database = connection.settings_dict
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "CCT_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.development",
        DJANGO_DEBUG="false",
        DATABASE_URL=f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}",
        CCT_VAR_DIR=str(var_dir),
        CCT_SEND_LEASE_SECONDS="3",
        CCT_SEND_BACKOFF_SECONDS="1",
        CCT_SITE_URL="https://cct.example.com",
        PYTHONPATH=str(ROOT),
    )
    if broker_url:
        env["REDIS_URL"] = broker_url
    if smtp is not None:
        env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port), EMAIL_TIMEOUT="20")
    return env


@contextlib.contextmanager
def broker(url: str, transport_options: dict) -> Iterator[None]:
    """Point this process's Celery app (which queues the e-mails after commit) at a broker."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options

    def reset() -> None:
        if celery_app._pool is not None:
            celery_app._pool.force_close_all()
            celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url, conf.broker_transport_options = url, transport_options
    reset()
    try:
        yield
    finally:
        conf.broker_url, conf.broker_transport_options = saved
        reset()
