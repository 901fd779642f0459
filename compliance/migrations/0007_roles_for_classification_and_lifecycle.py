"""The roles' permissions on financial years, renewals, cap revisions and quote-rule exceptions.

Every role reads them; compliance maintains financial years, records renewals, proposes revisions and
records their steps, and records and decides quote-rule exceptions (the second-person rule is the
service's, not the permission's).
"""

from django.db import migrations

READ_BY_EVERY_ROLE = [
    "compliance.view_financialyear",
    "compliance.view_caprevision",
    "compliance.view_quoteruleexception",
    "transactions.view_categoryrenewal",
]
COMPLIANCE = [
    "compliance.add_financialyear",
    "compliance.change_financialyear",
    "compliance.add_caprevision",
    "compliance.change_caprevision",
    "compliance.add_quoteruleexception",
    "compliance.change_quoteruleexception",
    "compliance.approve_quoteruleexception",
    "transactions.add_categoryrenewal",
    "transactions.change_categoryrenewal",
]
ROLES = ("finance", "compliance", "management", "auditor")


def _permissions(apps, names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    readable = _permissions(apps, READ_BY_EVERY_ROLE)
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*readable)
        if role == "compliance":
            group.permissions.add(*_permissions(apps, COMPLIANCE))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = _permissions(apps, READ_BY_EVERY_ROLE + COMPLIANCE)
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0006_financial_years_revisions_exceptions"),
        ("transactions", "0002_category_renewals"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
