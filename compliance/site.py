"""The admin site: its index opens with every live cap's utilisation at a glance; the management
dashboard is one of its pages."""

from functools import partial

from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.access import SignInForm
from compliance.reports.dashboard import dashboard_view
from compliance.rules.selectors import live_caps_with_utilisation
from transactions.permissions import has_any_role

# Words of Django's admin templates that its own Chinese catalogues lack (the app list's table headings):
# marked here so that the product's catalogues carry them.
DJANGO_WORDS = (gettext_noop("Model name"), gettext_noop("Add link"), gettext_noop("Change or view list link"))
# Models whose names cannot change without a migration of an app the product does not own the migrations
# of (the database's audit trail): their names in the index, in the reader's language.
MODEL_NAMES = {"audit.rowchange": _("Row changes")}


class ComplianceAdminSite(admin.AdminSite):
    login_form = SignInForm
    login_template = "admin/cct_login.html"
    site_header = _("Connected-transaction compliance tracker · 關連交易合規追蹤")
    site_title = _("CCT compliance tracker")
    index_title = _("Annual caps and transactions")
    index_template = "admin/cct_index.html"
    # The navigation column takes a fifth of a laptop's width from every list; the breadcrumbs and the
    # index lead everywhere it does.
    enable_nav_sidebar = False

    def has_permission(self, request) -> bool:
        # A role (group) is enough to use the admin; nobody needs the staff flag set by hand.
        return super().has_permission(request) or has_any_role(request.user)

    def get_urls(self):
        dashboard = self.admin_view(partial(dashboard_view, site=self))
        return [path("dashboard/", dashboard, name="dashboard"), *super().get_urls()]

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            for model in app["models"]:
                model["name"] = MODEL_NAMES.get(model["model"]._meta.label_lower, model["name"])
        return apps

    def index(self, request, extra_context=None):
        context = {"live_caps": []}
        if request.user.has_perm("compliance.view_annualcap"):
            context["live_caps"] = list(live_caps_with_utilisation())
        context.update(extra_context or {})
        return super().index(request, context)
