"""The cap ledger refuses UPDATE and DELETE on PostgreSQL (corrections are new entries); every role
reads the ledger, the totals and credit notes, finance records credit notes; and the ledger is built
from the documents already recorded (compliance.caps.ledger.ledger_build), listing the caps whose figures
the ledger's rules change: invoices of draft or cancelled orders now count."""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION compliance_ledger_append_only() RETURNS trigger AS $$
BEGIN
    -- TRUNCATE (a test database being emptied, an administrator's restore) is left to the owner.
    RAISE EXCEPTION 'The cap ledger is append-only: % of an entry is refused; record a correcting entry.', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS compliance_ledgerentry_append_only ON compliance_ledgerentry;
CREATE TRIGGER compliance_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON compliance_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION compliance_ledger_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS compliance_ledgerentry_append_only ON compliance_ledgerentry;
DROP FUNCTION IF EXISTS compliance_ledger_append_only();
"""

READ_BY_EVERY_ROLE = ["compliance.view_ledgerentry", "compliance.view_captotals", "transactions.view_creditnote"]
FINANCE = ["transactions.add_creditnote"]
ROLES = ("finance", "compliance", "management", "auditor")


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY, params=None)


def _permissions(apps, names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    readable = _permissions(apps, READ_BY_EVERY_ROLE)
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*readable)
        if role == "finance":
            group.permissions.add(*_permissions(apps, FINANCE))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = _permissions(apps, READ_BY_EVERY_ROLE + FINANCE)
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*permissions)


STEPS = {
    "fully_exempt": ["board_approved_on"],
    "announcement_and_annual_review": ["board_approved_on", "announced_on"],
    "shareholders_approval": ["board_approved_on", "announced_on", "shareholders_approved_on"],
}


def build(apps, schema_editor):
    CapRevision = apps.get_model("compliance", "CapRevision")
    for revision in CapRevision.objects.filter(status="completed", effective_on__isnull=True):
        days = [getattr(revision, step) for step in STEPS.get(revision.tier, STEPS["shareholders_approval"])]
        days = [day for day in days if day is not None] or [revision.completed_at.date()]
        CapRevision.objects.filter(pk=revision.pk).update(effective_on=max(days))
    AnnualCap = apps.get_model("compliance", "AnnualCap")
    if not AnnualCap.objects.exists():
        return  # a new installation: nothing recorded yet
    # The documents are read through the application's models as they stand at this migration.
    from compliance.caps.ledger import ledger_build

    changed = ledger_build()
    if changed:
        caps = AnnualCap.objects.filter(pk__in=changed).select_related("category").order_by("category", "period_start")
        print("\n  The ledger's rules change the actual amount of these caps (invoices of draft or cancelled orders):")
        for cap in caps:
            print(f"    cap {cap.pk}: {cap.category.name}, {cap.period_start} to {cap.period_end}")


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0012_cap_ledger"),
        ("transactions", "0004_credit_notes_and_ledger_flags"),
    ]

    operations = [
        migrations.RunPython(append_only, drop_append_only),
        migrations.RunPython(grant, revoke),
        migrations.RunPython(build, migrations.RunPython.noop),
    ]
