"""The evidence of quote-rule exceptions, handed out only to logged-in users whose role may read them."""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from compliance.models import QuoteRuleException
from transactions.documents import private_attachment, signed_in_or_token


@require_GET
@signed_in_or_token
def exception_evidence(request: HttpRequest, name: str) -> FileResponse:
    """Serves the evidence stored as `name` (the URL its storage gives it) as an attachment."""
    if not request.user.has_perm("compliance.view_quoteruleexception"):
        raise PermissionDenied
    exception = QuoteRuleException.objects.filter(evidence=name).first()
    if exception is None:
        raise Http404("No quote-rule exception has this evidence.")
    return private_attachment(exception.evidence, exception.evidence_name)
