"""The admin site: its index opens with every live cap's utilisation at a glance."""

from django.contrib import admin

from .selectors import live_caps_with_utilisation


class ComplianceAdminSite(admin.AdminSite):
    site_header = "Connected-transaction compliance tracker · 關連交易合規追蹤"
    site_title = "CCT compliance tracker"
    index_title = "Annual caps and transactions"
    index_template = "admin/cct_index.html"

    def index(self, request, extra_context=None):
        context = {"live_caps": []}
        if request.user.has_perm("compliance.view_annualcap"):
            context["live_caps"] = list(live_caps_with_utilisation())
        context.update(extra_context or {})
        return super().index(request, context)
