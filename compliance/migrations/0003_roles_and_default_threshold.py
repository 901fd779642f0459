"""The four roles of the API contract as Django groups, and the default 80% alert threshold.

Every role reads everything; finance enters orders, quotes and invoices; compliance approves and
cancels orders and maintains the reference data; management and auditors only read (auditors
also read the change history in the admin, which needs no more than the view permission).
A later model gets its permissions in a later migration; tests/test_roles.py fails if one is missing.
"""

from decimal import Decimal

from django.db import migrations

APPS = ("transactions", "compliance")
READ = "view"
ROLE_PERMISSIONS = {
    "finance": [
        "transactions.add_purchaseorder",
        "transactions.change_purchaseorder",
        "transactions.add_quote",
        "transactions.change_quote",
        "transactions.delete_quote",
        "transactions.add_invoice",
        "transactions.change_invoice",
    ],
    "compliance": [
        "transactions.approve_purchaseorder",
        "transactions.cancel_purchaseorder",
        "transactions.add_connectedperson",
        "transactions.change_connectedperson",
        "transactions.add_counterparty",
        "transactions.change_counterparty",
        "transactions.add_frameworkagreement",
        "transactions.change_frameworkagreement",
        "transactions.add_transactioncategory",
        "transactions.change_transactioncategory",
        "transactions.add_exchangerate",
        "transactions.change_exchangerate",
        "transactions.delete_exchangerate",
        "compliance.add_annualcap",
        "compliance.change_annualcap",
        "compliance.add_alertrecipient",
        "compliance.change_alertrecipient",
        "compliance.delete_alertrecipient",
        "compliance.add_alertthreshold",
        "compliance.change_alertthreshold",
        "compliance.delete_alertthreshold",
    ],
    "management": [],
    "auditor": [],
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    readable = list(
        Permission.objects.filter(content_type__app_label__in=APPS, codename__startswith=f"{READ}_").exclude(
            codename__startswith=f"{READ}_historical"
        )
    )
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        extra = []
        for name in names:
            app_label, codename = name.split(".")
            extra.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.add(*readable, *extra)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


def create_default_threshold(apps, schema_editor):
    apps.get_model("compliance", "AlertThreshold").objects.get_or_create(
        percent=Decimal("80.00"), defaults={"description": "Report to senior management immediately (about 80%)."}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_cap_periods_never_overlap"),
        ("transactions", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(create_default_threshold, migrations.RunPython.noop),
    ]
