"""The admin as finance and compliance staff use it, through Django's test client."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import AnnualCap
from tests.factories import D, UserFactory
from transactions.documents import simple_pdf
from transactions.models import Invoice, PurchaseOrder

ADD_ORDER = "/admin/transactions/purchaseorder/add/"


def change_url(order) -> str:
    return f"/admin/transactions/purchaseorder/{order.pk}/change/"


def order_form(ledger, **overrides) -> dict:
    data = {
        "number": "PO-ADMIN-1", "category": ledger.category.pk, "counterparty": ledger.connected.pk,
        "description": "Hosting for the Beijing hall", "order_date": "2026-03-02", "amount": "100000.00",
        "currency": "CNY", "recognition": "on_order_date", "service_start": "", "service_end": "",
        "quotes-TOTAL_FORMS": "2", "quotes-INITIAL_FORMS": "0", "quotes-MIN_NUM_FORMS": "0",
        "quotes-MAX_NUM_FORMS": "1000",
        "quotes-0-supplier": ledger.independents[0].pk, "quotes-0-quoted_on": "2026-02-20",
        "quotes-0-amount": "110000.00", "quotes-0-currency": "CNY", "quotes-0-reference": "HB-Q-17",
        "quotes-1-supplier": ledger.independents[1].pk, "quotes-1-quoted_on": "2026-02-25",
        "quotes-1-amount": "108000.00", "quotes-1-currency": "CNY", "quotes-1-reference": "",
        "invoices-TOTAL_FORMS": "0", "invoices-INITIAL_FORMS": "0", "invoices-MIN_NUM_FORMS": "0",
        "invoices-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for number in (0, 1):
        data[f"quotes-{number}-document"] = SimpleUploadedFile(f"quote {number}.pdf", simple_pdf("Quotation"))
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_finance_adds_an_order_with_its_quotes_and_compliance_approves_it(
    client, ledger, finance_user, compliance_user
):
    client.force_login(finance_user)
    assert client.get(ADD_ORDER).status_code == 200

    response = client.post(ADD_ORDER, order_form(ledger))

    assert response.status_code == 302, response.context and response.context["errors"]
    order = PurchaseOrder.objects.get(number="PO-ADMIN-1")
    assert (order.status, order.created_by, order.quotes.count()) == ("draft", finance_user, 2)
    page = client.get(change_url(order)).content.decode()
    assert "approve-order" not in page  # finance cannot approve

    client.force_login(compliance_user)
    page = client.get(change_url(order)).content.decode()
    assert 'id="approve-order"' in page
    assert "The order passes" in page
    response = client.post(f"/admin/transactions/purchaseorder/{order.pk}/approve/", follow=True)

    assert "Order PO-ADMIN-1 is approved." in messages_of(response)
    order.refresh_from_db()
    assert (order.status, order.approved_by) == ("approved", compliance_user)


def test_a_refused_approval_shows_the_sentence_and_changes_nothing(client, ledger, compliance_user):
    order = ledger.order("100000.00", quotes=("120000.00",))
    client.force_login(compliance_user)

    response = client.post(f"/admin/transactions/purchaseorder/{order.pk}/approve/", follow=True)

    [message] = messages_of(response)
    assert "needs quotes from at least 2 independent third parties" in message
    order.refresh_from_db()
    assert order.status == "draft"


def test_finance_cannot_approve_even_by_posting_directly(client, ledger, finance_user):
    order = ledger.order()
    client.force_login(finance_user)

    assert client.post(f"/admin/transactions/purchaseorder/{order.pk}/approve/").status_code == 403


def test_approving_from_the_list_runs_the_same_gates(client, ledger, compliance_user):
    good, bad = ledger.order("100.00"), ledger.order("100.00", quotes=("100.00", "100.00"))
    client.force_login(compliance_user)

    response = client.post(
        "/admin/transactions/purchaseorder/",
        {"action": "approve_selected", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )

    shown = messages_of(response)
    assert f"Order {good.number} is approved." in shown
    assert any("not less than the independent quote" in m for m in shown)
    assert PurchaseOrder.objects.get(pk=bad.pk).status == "draft"


def test_an_approval_that_reaches_80_percent_says_so(client, ledger, compliance_user):
    order = ledger.order("1700000.00", quotes=("1800000.00", "1800000.00"))
    client.force_login(compliance_user)

    response = client.post(f"/admin/transactions/purchaseorder/{order.pk}/approve/", follow=True)

    assert any("Alert recorded" in m and "reached 80.00%" in m for m in messages_of(response))


def test_cancelling_from_the_order_page_records_the_reason(client, ledger, compliance_user):
    order = ledger.approved("100.00", approver=UserFactory(username="approver"))
    client.force_login(compliance_user)

    client.post(f"/admin/transactions/purchaseorder/{order.pk}/cancel/", {"reason": "Supplier withdrew"})

    order.refresh_from_db()
    assert (order.status, order.cancellation_reason, order.cancelled_by) == (
        "cancelled", "Supplier withdrew", compliance_user,
    )  # fmt: skip


def test_an_approved_order_is_read_only_but_takes_invoices(client, ledger, finance_user):
    order = ledger.approved("100.00", approver=UserFactory(username="approver"))
    client.force_login(finance_user)
    data = {
        "quotes-TOTAL_FORMS": "2", "quotes-INITIAL_FORMS": "2", "quotes-MIN_NUM_FORMS": "0",
        "quotes-MAX_NUM_FORMS": "1000",
        "invoices-TOTAL_FORMS": "1", "invoices-INITIAL_FORMS": "0", "invoices-MIN_NUM_FORMS": "0",
        "invoices-MAX_NUM_FORMS": "1000", "invoices-0-number": "FP-0001", "invoices-0-invoice_date": "2026-03-31",
        "invoices-0-amount": "60.00", "invoices-0-currency": "CNY", "number": "CHANGED",
    }  # fmt: skip
    for i, quote in enumerate(order.quotes.all()):
        data[f"quotes-{i}-id"] = quote.pk
        data[f"quotes-{i}-purchase_order"] = order.pk

    response = client.post(change_url(order), data)

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.number != "CHANGED"
    assert Invoice.objects.get().amount == Decimal("60.00")


def test_an_invoice_without_a_rate_is_a_form_error_and_nothing_is_saved(client, ledger, finance_user):
    order = ledger.approved("100.00", approver=UserFactory(username="approver"))
    client.force_login(finance_user)
    data = {
        "quotes-TOTAL_FORMS": "0", "quotes-INITIAL_FORMS": "0", "quotes-MIN_NUM_FORMS": "0",
        "quotes-MAX_NUM_FORMS": "1000",
        "invoices-TOTAL_FORMS": "1", "invoices-INITIAL_FORMS": "0", "invoices-MIN_NUM_FORMS": "0",
        "invoices-MAX_NUM_FORMS": "1000", "invoices-0-number": "FP-USD", "invoices-0-invoice_date": "2026-03-31",
        "invoices-0-amount": "60.00", "invoices-0-currency": "USD",
    }  # fmt: skip

    response = client.post(change_url(order), data)

    assert response.status_code == 200
    assert "There is no USD/CNY exchange rate for 31 Mar 2026" in response.content.decode()
    assert not Invoice.objects.exists()


def test_a_counterparty_outside_the_connected_person_is_a_form_error(client, ledger, finance_user):
    client.force_login(finance_user)

    response = client.post(ADD_ORDER, order_form(ledger, counterparty=ledger.independents[2].pk))

    assert response.status_code == 200
    assert "is not a company of Xiaomi Group" in response.content.decode()
    assert not PurchaseOrder.objects.exists()


@pytest.fixture
def category_form(ledger):
    caps = list(ledger.caps)
    data = {
        "agreement": ledger.agreement.pk, "name": ledger.category.name, "name_zh": "IDC相關服務",
        "term_start": "2025-07-29", "term_end": "2027-12-31", "currency": "CNY", "min_independent_quotes": "2",
        "quote_validity_days": "90", "caps-TOTAL_FORMS": str(len(caps) + 1), "caps-INITIAL_FORMS": str(len(caps)),
        "caps-MIN_NUM_FORMS": "0", "caps-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for i, cap in enumerate(caps):
        data.update({
            f"caps-{i}-id": cap.pk, f"caps-{i}-category": ledger.category.pk,
            f"caps-{i}-period_start": str(cap.period_start), f"caps-{i}-period_end": str(cap.period_end),
            f"caps-{i}-amount": str(cap.amount),
        })  # fmt: skip
    return data


def test_an_overlapping_cap_entered_under_its_category_is_a_form_error(client, ledger, compliance_user, category_form):
    client.force_login(compliance_user)
    n = len(ledger.caps)
    category_form.update({f"caps-{n}-period_start": "2026-12-01", f"caps-{n}-period_end": "2027-12-31",
                          f"caps-{n}-amount": "82000000.00"})  # fmt: skip

    response = client.post(f"/admin/transactions/transactioncategory/{ledger.category.pk}/change/", category_form)

    assert response.status_code == 200
    assert "overlaps the cap for 1 Jan 2026 to 31 Dec 2026" in response.content.decode()
    assert AnnualCap.objects.count() == n


def test_a_new_cap_and_a_longer_term_are_saved_together(client, ledger, compliance_user, category_form):
    client.force_login(compliance_user)
    n = len(ledger.caps)
    category_form.update({f"caps-{n}-period_start": "2027-01-01", f"caps-{n}-period_end": "2027-12-31",
                          f"caps-{n}-amount": "82000000.00"})  # fmt: skip

    response = client.post(f"/admin/transactions/transactioncategory/{ledger.category.pk}/change/", category_form)

    assert response.status_code == 302
    assert AnnualCap.objects.filter(period_start=D("2027-01-01"), amount=Decimal("82000000.00")).exists()


def test_caps_show_their_utilisation_with_a_colour_at_80_percent(client, ledger, compliance_user):
    ledger.approved("1700000.00", approver=UserFactory(username="approver"), order_date=D("2026-03-02"))
    client.force_login(compliance_user)

    page = client.get(f"/admin/transactions/transactioncategory/{ledger.category.pk}/change/").content.decode()

    assert "cct-util-warning" in page
    assert "85.00%" in page
    assert "CNY 1,700,000.00" in page


@pytest.mark.parametrize(("amount", "level"), [("1000000.00", "ok"), ("1600000.00", "warning"), ("2000000.00", "full")])
def test_the_index_shows_each_live_caps_utilisation_at_a_glance(
    client, ledger, auditor_user, time_machine, amount, level
):
    ledger.approved(amount, approver=UserFactory(username="approver"), order_date=D("2026-03-02"))
    client.force_login(auditor_user)
    time_machine.move_to("2026-06-30 10:00 +08:00")

    page = client.get("/admin/").content.decode()

    assert 'id="live-caps"' in page
    assert f"cct-util-{level}" in page
    assert page.count('class="live-cap"') == 1


def test_a_role_is_enough_to_log_in_to_the_admin(client, ledger, management_user, norole_user):
    for user, allowed in ((management_user, True), (norole_user, False)):
        user.set_password("a-long-password-123")
        user.save()
        response = client.post(
            "/admin/login/?next=/admin/", {"username": user.username, "password": "a-long-password-123"}
        )
        assert (response.status_code == 302) == allowed
        client.logout()


def test_chinese_names_are_shown_as_entered(client, ledger, auditor_user):
    client.force_login(auditor_user)

    page = client.get("/admin/transactions/connectedperson/").content.decode()

    assert "小米集團" in page


def test_a_pending_alert_shows_its_last_error_and_compliance_can_send_it_now(client, ledger, compliance_user):
    from django.core import mail

    from compliance.delivery import outbox
    from compliance.models import Alert, AlertRecipient

    ledger.approved("1700000.00", approver=UserFactory(username="approver"))
    alert = Alert.objects.get()
    outbox.send("alert", alert.pk)  # nobody to send it to yet
    client.force_login(compliance_user)

    page = client.get("/admin/compliance/alert/").content.decode()
    assert "pending: NoRecipients: Nobody is configured to receive alerts at 80.00%" in page

    AlertRecipient.objects.create(threshold=Decimal("80.00"), email="cfo@example.com")
    response = client.post(
        "/admin/compliance/alert/", {"action": "send_now", "_selected_action": [alert.pk]}, follow=True
    )

    assert messages_of(response) == ["1 sent, 0 could not be sent (see their last error)."]
    assert [m.to for m in mail.outbox] == [["cfo@example.com"]]


def test_only_compliance_may_send_pending_emails_by_hand(client, ledger, finance_user):
    client.force_login(finance_user)

    page = client.get("/admin/compliance/alert/").content.decode()

    assert "send_now" not in page


@pytest.mark.parametrize(
    "model", ["transactions/quote", "transactions/invoice", "compliance/alert", "compliance/jobrun"]
)
def test_records_the_product_writes_or_that_are_entered_on_their_order_cannot_be_added_here(client, model, db):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root.admin", "r@example.com", "a-long-pass-123"))
    assert client.get(f"/admin/{model}/add/").status_code == 403
    assert client.get(f"/admin/{model}/").status_code == 200


def test_the_draft_page_says_a_quote_without_its_document_does_not_count(client, ledger, compliance_user):
    order = ledger.order()
    order.quotes.filter(supplier=ledger.independents[1]).update(document="", document_name="")
    client.force_login(compliance_user)

    page = client.get(change_url(order)).content.decode()

    assert "The order does not pass" in page
    assert "not counted: no quote document" in page
    assert "Quotes count only with their document attached" in page


def test_the_user_form_says_a_role_lets_a_user_in_and_staff_is_for_user_administrators(admin_client, finance_user):
    page = admin_client.get(f"/admin/auth/user/{finance_user.pk}/change/").content.decode()

    assert "A role is enough to sign in to this site." in page
    assert "User administrator (staff)" in page
    assert "Designates whether the user can log into this admin site." not in page


def test_a_new_order_and_its_quotes_start_in_the_categorys_currency(client, ledger, finance_user):
    client.force_login(finance_user)

    page = client.get("/admin/transactions/purchaseorder/add/").content.decode()
    chosen = client.get(f"/admin/transactions/purchaseorder/add/?category={ledger.category.pk}").content.decode()

    selected = '<option value="CNY" selected>'
    assert ledger.category.currency == "CNY"
    # the order, the two blank quotes, and the templates of a further quote and of an invoice
    assert page.count(selected) == 1 + 2 + 1 + 1
    assert chosen.count(selected) == 5


def test_the_currency_filter_lists_only_the_currencies_in_use(client, ledger, finance_user):
    ledger.order("100.00")
    ledger.order("100.00", currency="USD")
    client.force_login(finance_user)

    page = client.get("/admin/transactions/purchaseorder/").content.decode()

    assert "currency=CNY" in page and "currency=USD" in page
    assert "currency=EUR" not in page and "currency=JPY" not in page


def test_a_quote_document_is_linked_by_the_name_it_was_uploaded_as(client, ledger, finance_user):
    order = ledger.order("100.00")
    quote = order.quotes.first()
    quote.document_name = "Supplier quotation March.pdf"
    quote.save()
    client.force_login(finance_user)

    page = client.get(change_url(order)).content.decode()

    assert f'href="{quote.document.url}">Supplier quotation March.pdf</a>' in page
    assert f">{quote.document.name}</a>" not in page


def test_a_rejected_document_is_named_at_the_top_in_words_and_the_files_to_attach_again_are_listed(
    client, ledger, finance_user
):
    client.force_login(finance_user)
    fake = SimpleUploadedFile("quote 1.pdf", b"<html><body>not a quotation</body></html>")

    response = client.post(ADD_ORDER, order_form(ledger, **{"quotes-1-document": fake}))

    assert response.status_code == 200
    page = response.content.decode()
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert "Quote 2 · Document: The file is named .pdf but its content is not a PDF document." in summary
    assert "attach these again" in summary and "quote 0.pdf, quote 1.pdf" in summary
    assert not PurchaseOrder.objects.exists()


def before_approval(client, order) -> str:
    import html
    import re

    page = client.get(change_url(order)).content.decode()
    section = page.split('id="before-approval"')[1].split("</ul>")[0]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", section))).replace(" :", ":")


def test_the_draft_page_says_each_gate_approval_would_refuse_in_the_approvals_own_words(
    client, ledger, compliance_user
):
    client.force_login(compliance_user)
    # USD with no USD/CNY rate recorded: the rate is missing and the caps cannot be judged yet.
    in_dollars = ledger.order("100.00", currency="USD", quotes=("120.00", "130.00"))
    # Services to 2028-06-30, 18 months past the term's end on 2026-12-31, and CNY 2,500,000 against a
    # 2026 cap of CNY 2,000,000 with nothing used: above it by CNY 500,000.00.
    too_long = ledger.order(
        "2500000.00", quotes=("2600000.00", "2700000.00"), order_date=D("2026-01-05"),
        service_start=D("2026-01-05"), service_end=D("2028-06-30"),
    )  # fmt: skip
    too_big = ledger.order("2500000.00", quotes=("2600000.00", "2700000.00"), order_date=D("2026-01-05"))
    dearer = ledger.order("150000.00", quotes=("100000.00", "110000.00"))
    fine = ledger.order("100000.00")

    dollars = before_approval(client, in_dollars)
    assert "Exchange rate: There is no USD/CNY exchange rate for" in dollars
    assert "Annual caps: Cannot be checked until the USD/CNY rate is recorded." in dollars
    assert "Term: Order" in before_approval(client, too_long) and "Every service day must fall inside the term" in (
        before_approval(client, too_long)
    )
    big = before_approval(client, too_big)
    assert "Term: passes" in big and "Quote rule: passes" in big
    assert "above the cap of CNY 2,000,000.00 by CNY 500,000.00" in big
    assert "Quote rule: " in before_approval(client, dearer) and "Quote rule: passes" not in before_approval(
        client, dearer
    )
    page = client.get(change_url(dearer)).content.decode()
    assert "dearer than the lowest counted quote by CNY 50,000.00" in page and "CNY -50,000.00" not in page
    assert "Approval would pass every gate" in before_approval(client, fine)
    # The same code as the gate: approval refuses with the very sentence the page showed.
    from compliance.caps.approval import purchase_order_approve
    from transactions.errors import Refusal

    for order, page_text in ((too_big, big), (in_dollars, dollars)):
        with pytest.raises(Refusal) as refused:
            purchase_order_approve(order_id=order.pk, user=compliance_user)
        assert refused.value.detail in page_text
