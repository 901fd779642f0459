"""The admin of report jobs: reports too long for a request, with their progress while the worker builds
them and the file to download once built. A job's page refreshes itself until the job ends."""

from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from compliance.common.chinese import chinese
from compliance.models import ReportJob
from compliance.reports.pdf import PDF_CONTENT_TYPE
from compliance.reports.workbook import XLSX_CONTENT_TYPE
from transactions.admin import ReadOnlyAdmin


def _sees_every_job(request: HttpRequest) -> bool:
    return request.user.is_superuser or request.user.groups.filter(name="compliance").exists()


@admin.register(ReportJob)
class ReportJobAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    change_form_template = "admin/compliance/reportjob/change_form.html"
    list_display = ["__str__", "status", "progress_bar", "requested_by", "requested_at", "finished_at", "download"]
    list_filter = ["status", "report", "format"]
    list_select_related = ["requested_by"]
    fields = [
        "report", "period", "format", "status", "progress_bar", "stage_shown", "orders", "requested_by", "requested_at",
        "started_at", "finished_at", "filename", "size", "error", "download",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        jobs = super().get_queryset(request)
        return jobs if _sees_every_job(request) else jobs.filter(requested_by=request.user)

    @admin.display(description=gettext_lazy("progress"))
    def progress_bar(self, job: ReportJob):
        return format_html(
            '<progress max="100" value="{}" style="width:10em"></progress> {}%', job.progress, job.progress
        )

    @admin.display(description=gettext_lazy("stage"))
    def stage_shown(self, job: ReportJob) -> str:
        """The stage as the worker wrote it (English and Traditional), its Chinese in the reader's script."""
        return chinese(job.stage)

    @admin.display(description=gettext_lazy("download"))
    def download(self, job: ReportJob):
        if job.status != ReportJob.Status.DONE:
            return "—"
        url = reverse("admin:compliance_reportjob_download", args=[job.pk])
        return format_html('<a class="button" href="{}">{} {}</a>', url, gettext("Download"), job.filename)

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="compliance_reportjob_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, pk: int):
        if not self.has_view_permission(request):
            raise Http404
        job = get_object_or_404(self.get_queryset(request), pk=pk, status=ReportJob.Status.DONE)
        content_type = PDF_CONTENT_TYPE if job.filename.endswith(".pdf") else XLSX_CONTENT_TYPE
        response = FileResponse(
            job.file.open("rb"), as_attachment=True, filename=job.filename, content_type=content_type
        )
        response["Cache-Control"] = "private, no-store"
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        running = job is not None and job.status in (ReportJob.Status.QUEUED, ReportJob.Status.RUNNING)
        return super().change_view(request, object_id, form_url, {"refresh": running, **(extra_context or {})})
