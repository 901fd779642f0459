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
    "compliance.Breach",
    # The evidence that the monitoring controls ran, and the auditors' timetable and access.
    "compliance.MonthlySignoff",
    "compliance.AlertAcknowledgement",
    "compliance.BoardSubmission",
    "compliance.AuditorTimetable",
    "compliance.AccessUndertaking",
]


_COLUMNS = "table_name, operation, row_id, old_row, new_row, context_id, recorded_at"


def _statement_trigger(operation: str) -> pgtrigger.Trigger:
    """One trigger per statement and operation, reading the statement's rows from its transition tables:
    a bulk write costs one INSERT ... SELECT into the trail, and the context is looked up once."""
    select = {
        "INSERT": "SELECT TG_TABLE_NAME, TG_OP, n.id::text, NULL::jsonb, to_jsonb(n), ctx, NOW() FROM new_rows n",
        "UPDATE": "SELECT TG_TABLE_NAME, TG_OP, n.id::text, to_jsonb(o), to_jsonb(n), ctx, NOW()"
        " FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE to_jsonb(o) IS DISTINCT FROM to_jsonb(n)",
        "DELETE": "SELECT TG_TABLE_NAME, TG_OP, o.id::text, to_jsonb(o), NULL::jsonb, ctx, NOW() FROM old_rows o",
    }[operation]
    return pgtrigger.Trigger(
        name=f"audit_{operation.lower()}",
        level=pgtrigger.Statement,
        when=pgtrigger.After,
        operation=getattr(pgtrigger, operation.capitalize()),
        referencing=pgtrigger.Referencing(
            old="old_rows" if operation != "INSERT" else None, new="new_rows" if operation != "DELETE" else None
        ),
        declare=[("ctx", "uuid")],
        func=f"ctx := _pgh_attach_context(); INSERT INTO audit_rowchange ({_COLUMNS}) {select}; RETURN NULL;",
    )


def register() -> None:
    """Attach the triggers to every tracked model; `migrate` installs it (PGTRIGGER_INSTALL_ON_MIGRATE)."""
    for label in TRACKED:
        pgtrigger.register(*(_statement_trigger(operation) for operation in ("INSERT", "UPDATE", "DELETE")))(
            apps.get_model(label)
        )
