"""The roles' permissions on material changes of terms: every role reads them; compliance records them and
their steps."""

from django.db import migrations

READ_BY_EVERY_ROLE = ["compliance.view_termschange"]
COMPLIANCE = ["compliance.add_termschange", "compliance.change_termschange"]
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
        ("compliance", "0010_recompliance_steps_and_terms_changes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
