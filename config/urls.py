"""Every URL of the product: the admin, the API (one router) with its schema and docs, documents."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from accounts.access import two_factor
from accounts.language import set_language
from compliance.acknowledge import acknowledge_alert
from compliance.api import breaches as breaches_api
from compliance.api import caps as policy
from compliance.api import imports, lifecycle, monitoring, reports
from compliance.views import exception_evidence
from config.health import healthz
from transactions import api as facts
from transactions.views import quote_document

router = DefaultRouter()
router.register("connected-persons", policy.ConnectedPersonViewSet, basename="connectedperson")
router.register("counterparties", facts.CounterpartyViewSet, basename="counterparty")
router.register("agreements", facts.FrameworkAgreementViewSet, basename="frameworkagreement")
router.register("categories", policy.TransactionCategoryViewSet, basename="transactioncategory")
router.register("caps", policy.AnnualCapViewSet, basename="annualcap")
router.register("exchange-rates", policy.ExchangeRateViewSet, basename="exchangerate")
router.register("purchase-orders", policy.PurchaseOrderViewSet, basename="purchaseorder")
router.register("quotes", facts.QuoteViewSet, basename="quote")
router.register("invoices", policy.InvoiceViewSet, basename="invoice")
router.register("sales-orders", policy.SalesOrderViewSet, basename="salesorder")
router.register("price-references", facts.PriceReferenceViewSet, basename="pricereference")
router.register("sales-invoices", policy.SalesInvoiceViewSet, basename="salesinvoice")
router.register("credit-notes", policy.CreditNoteViewSet, basename="creditnote")
router.register("alerts", policy.AlertViewSet, basename="alert")
router.register("alert-recipients", policy.AlertRecipientViewSet, basename="alertrecipient")
router.register("alert-thresholds", policy.AlertThresholdViewSet, basename="alertthreshold")
router.register("distribution-lists", policy.DistributionListViewSet, basename="distributionlist")
router.register("headroom-warnings", policy.HeadroomWarningViewSet, basename="headroomwarning")
router.register("quote-rule-findings", policy.QuoteRuleFindingViewSet, basename="quoterulefinding")
router.register("financial-years", lifecycle.FinancialYearViewSet, basename="financialyear")
router.register("renewals", lifecycle.CategoryRenewalViewSet, basename="categoryrenewal")
router.register("cap-revisions", lifecycle.CapRevisionViewSet, basename="caprevision")
router.register("terms-changes", lifecycle.TermsChangeViewSet, basename="termschange")
router.register("quote-rule-exceptions", lifecycle.QuoteRuleExceptionViewSet, basename="quoteruleexception")
router.register("breaches", breaches_api.BreachViewSet, basename="breach")
router.register("reports", reports.ReportViewSet, basename="report")
router.register("imports", imports.ImportViewSet, basename="import")
router.register("report-jobs", reports.ReportJobViewSet, basename="reportjob")
router.register("monthly-signoffs", monitoring.MonthlySignoffViewSet, basename="monthlysignoff")
router.register("evidence-binders", monitoring.EvidenceBinderViewSet, basename="evidencebinder")

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("account/language/", set_language, name="set-language"),
    path("account/two-factor/", two_factor, name="two-factor"),
    path("admin/", admin.site.urls),
    # The schema and its reader are for signed-in users (a session, or an API token for the schema).
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="schema"),
    path(
        "api/docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="schema"), login_url="admin:login"),
        name="api-docs",
    ),
    path("api/", include(router.urls)),
    path("documents/<path:name>", quote_document, name="quote-document"),
    path("evidence/<path:name>", exception_evidence, name="exception-evidence"),
    path("alerts/acknowledge/<str:token>/", acknowledge_alert, name="alert-acknowledge"),
]

handler404 = "transactions.api_errors.not_found"
