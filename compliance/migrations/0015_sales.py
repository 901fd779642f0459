"""The roles' permissions on sales to the connected person: every role reads sales orders, price references
and sales invoices; finance enters them (price references may be withdrawn from a draft, as quotes);
compliance approves and cancels sales orders."""

from django.db import migrations

READ_BY_EVERY_ROLE = [
    "transactions.view_salesorder",
    "transactions.view_pricereference",
    "transactions.view_salesinvoice",
]
FINANCE = [
    "transactions.add_salesorder",
    "transactions.change_salesorder",
    "transactions.add_pricereference",
    "transactions.change_pricereference",
    "transactions.delete_pricereference",
    "transactions.add_salesinvoice",
    "transactions.change_salesinvoice",
]
COMPLIANCE = ["transactions.approve_salesorder", "transactions.cancel_salesorder"]
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
        if role == "finance":
            group.permissions.add(*_permissions(apps, FINANCE))
        if role == "compliance":
            group.permissions.add(*_permissions(apps, COMPLIANCE))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = _permissions(apps, READ_BY_EVERY_ROLE + FINANCE + COMPLIANCE)
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0014_breaches"),
        ("transactions", "0005_sales"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
