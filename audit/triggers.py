"""The tables the database audits, in one place, and the trigger that does it (see audit.models)."""

import pgtrigger
from django.apps import apps

# app_label.Model of every table of the ledger: the facts, the caps and their lifecycle, the alerts and
# who receives them. A model added to the ledger is added here; nothing else changes.
TRACKED = [
    "transactions.ConnectedPerson",
    "transactions.Counterparty",
    "transactions.FrameworkAgreement",
    "transactions.TransactionCategory",
    "transactions.CategoryRenewal",
    "transactions.ExchangeRate",
    "transactions.PurchaseOrder",
    "transactions.Quote",
    "transactions.Invoice",
    "compliance.AnnualCap",
    "compliance.AlertThreshold",
    "compliance.AlertRecipient",
    "compliance.Alert",
    "compliance.DistributionList",
    "compliance.DistributionListMember",
    "compliance.FinancialYear",
    "compliance.CapRevision",
    "compliance.QuoteRuleException",
]


class RowChangeTrigger(pgtrigger.Trigger):
    """After every insert, update (that changes something) and delete: one audit_rowchange row."""

    when = pgtrigger.After
    operation = pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete
    level = pgtrigger.Row
    func = """
        IF TG_OP = 'INSERT' THEN
            INSERT INTO audit_rowchange (table_name, operation, row_id, old_row, new_row, context_id, recorded_at)
            VALUES (TG_TABLE_NAME, TG_OP, NEW.id::text, NULL, to_jsonb(NEW), _pgh_attach_context(), NOW());
        ELSIF TG_OP = 'UPDATE' THEN
            IF to_jsonb(OLD) IS DISTINCT FROM to_jsonb(NEW) THEN
                INSERT INTO audit_rowchange (table_name, operation, row_id, old_row, new_row, context_id, recorded_at)
                VALUES (TG_TABLE_NAME, TG_OP, NEW.id::text, to_jsonb(OLD), to_jsonb(NEW), _pgh_attach_context(), NOW());
            END IF;
        ELSE
            INSERT INTO audit_rowchange (table_name, operation, row_id, old_row, new_row, context_id, recorded_at)
            VALUES (TG_TABLE_NAME, TG_OP, OLD.id::text, to_jsonb(OLD), NULL, _pgh_attach_context(), NOW());
        END IF;
        RETURN NULL;
    """


def register() -> None:
    """Attach the trigger to every tracked model; `migrate` installs it (PGTRIGGER_INSTALL_ON_MIGRATE)."""
    for label in TRACKED:
        pgtrigger.register(RowChangeTrigger(name="audit_row_change"))(apps.get_model(label))
