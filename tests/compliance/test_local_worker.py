"""`make run`'s embedded defaults: no Redis, no mail server. The worker takes its tasks from a folder
(kombu's filesystem transport) and e-mail is written to files under var/mail. Approving an order that
takes a demo cap past 80% puts the alert e-mail there within a minute."""

from email import message_from_bytes, policy

import pytest
from django.core.management import call_command

from compliance.caps.approval import purchase_order_approve
from compliance.models import Alert, DistributionList
from tests.processes import Worker, broker, wait_for, worker_environment
from transactions.models import PurchaseOrder

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_approving_the_demo_draft_puts_the_alert_email_in_the_mail_folder_within_a_minute(tmp_path, compliance_user):
    call_command("load_demo", verbosity=0)
    env = worker_environment(broker_url=None, smtp=None, var_dir=tmp_path)
    folder = tmp_path / "broker"
    for sub in ("", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(folder / "control"),
        "processed_folder": str(folder / "processed"), "store_processed": False,
    }  # fmt: skip
    worker = Worker("local", env, tmp_path).start()
    try:
        draft = PurchaseOrder.objects.get(number="IDC-2026-003")
        with broker("filesystem://", options):
            purchase_order_approve(order_id=draft.pk, user=compliance_user)

        mails = wait_for(lambda: list((tmp_path / "mail").glob("*.log")), timeout=60, what="the alert e-mail file")
    finally:
        worker.stop()

    [written] = mails
    message = message_from_bytes(written.read_bytes().split(b"\n" + b"-" * 79)[0], policy=policy.default)
    management = DistributionList.objects.get(name="Senior management").member_emails
    assert set(management) <= {address.strip() for address in message["To"].split(",")}
    assert (
        str(message["Subject"])
        .strip()
        .startswith("Cap alert: IDC services 2026-01-01–2026-12-31 committed reached 80.00%")
    )
    assert Alert.objects.get(triggered_by=draft).sent_at is not None
