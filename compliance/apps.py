import sys

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    default = True
    name = "compliance"
    verbose_name = _("Compliance (caps, approvals, alerts)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import access  # noqa: F401 - connects the sign-in signal


class ComplianceAdminConfig(admin_apps.AdminConfig):
    """The admin, with this product's site (compliance.admin_site) as `admin.site`."""

    default = False
    default_site = "compliance.admin_site.ComplianceAdminSite"

    def ready(self) -> None:
        super().ready()  # imports every app's admin module (autodiscovery), compliance.admin included
        # The sales pages build on compliance.admin's order pages, so they are registered after it rather than
        # imported by it (an import each way would be a circle); not at all when autodiscovery is off.
        if "compliance.admin" in sys.modules:
            from . import sales_admin  # noqa: F401
