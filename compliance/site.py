"""The admin site: its index opens with every live cap's utilisation at a glance; the management
dashboard is one of its pages."""

from functools import partial

from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

from accounts.access import SignInForm
from compliance.reports.dashboard import dashboard_view
from compliance.rules.selectors import live_caps_with_utilisation
from transactions.permissions import has_any_role


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

    def index(self, request, extra_context=None):
        context = {"live_caps": []}
        if request.user.has_perm("compliance.view_annualcap"):
            context["live_caps"] = list(live_caps_with_utilisation())
        context.update(extra_context or {})
        return super().index(request, context)
