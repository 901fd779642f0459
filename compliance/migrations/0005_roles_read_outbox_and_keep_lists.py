"""Every role reads the new records (distribution lists, warnings, findings, mailings, job runs);
compliance maintains the distribution lists."""

from django.db import migrations

NEW_MODELS = (
    "distributionlist", "distributionlistmember", "headroomwarning", "termwarning", "quoterulefinding",
    "mailing", "jobrun",
)  # fmt: skip
COMPLIANCE_WRITES = [
    f"{verb}_{model}" for model in ("distributionlist", "distributionlistmember") for verb in ("add", "change", "delete")
] + ["send_outbox"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    compliance_perms = Permission.objects.filter(content_type__app_label="compliance")
    readable = list(compliance_perms.filter(codename__in=[f"view_{m}" for m in NEW_MODELS]))
    for group in Group.objects.filter(name__in=["finance", "compliance", "management", "auditor"]):
        group.permissions.add(*readable)
        if group.name == "compliance":
            group.permissions.add(*compliance_perms.filter(codename__in=COMPLIANCE_WRITES))


class Migration(migrations.Migration):
    dependencies = [("compliance", "0004_outbox_distribution_lists_and_checks")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
