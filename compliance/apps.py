from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    default = True
    name = "compliance"
    verbose_name = _("Compliance (caps, approvals, alerts)")
    default_auto_field = "django.db.models.BigAutoField"


class ComplianceAdminConfig(admin_apps.AdminConfig):
    """The admin, with this product's site (compliance.site) as `admin.site`."""

    default = False
    default_site = "compliance.site.ComplianceAdminSite"
