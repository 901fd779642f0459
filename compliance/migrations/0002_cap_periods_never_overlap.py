"""No two cap periods of one category overlap, enforced by PostgreSQL itself.

An exclusion constraint over daterange(period_start, period_end, '[]') per category. Other databases
(SQLite for local use) rely on compliance.caps.setup.annual_cap_check, which runs everywhere.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE compliance_annualcap
    ADD CONSTRAINT cap_periods_never_overlap
    EXCLUDE USING gist (category_id WITH =, daterange(period_start, period_end, '[]') WITH &&);
"""
DROP = "ALTER TABLE compliance_annualcap DROP CONSTRAINT IF EXISTS cap_periods_never_overlap;"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]
    operations = [migrations.RunPython(add_constraint, drop_constraint)]
