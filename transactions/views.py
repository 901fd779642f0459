"""Quote documents, handed out only to logged-in users whose role may read quotes."""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from .documents import private_attachment, signed_in_or_token
from .models import Quote


@require_GET
@signed_in_or_token
def quote_document(request: HttpRequest, name: str) -> FileResponse:
    """Serves the document stored as `name` (the URL its storage gives it) to users who may read quotes."""
    if not request.user.has_perm("transactions.view_quote"):
        raise PermissionDenied
    quote = Quote.objects.filter(document=name).first()
    if quote is None:
        raise Http404("No quote has this document.")
    return private_attachment(quote.document, quote.document_name)
