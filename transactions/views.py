"""Quote documents, handed out only to logged-in users whose role may read quotes."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from .models import Quote


@require_GET
@login_required
def quote_document(request: HttpRequest, pk: int) -> FileResponse:
    if not request.user.has_perm("transactions.view_quote"):
        raise PermissionDenied
    quote = get_object_or_404(Quote, pk=pk)
    if not quote.document:
        raise Http404("This quote has no document.")
    response = FileResponse(
        quote.document.open("rb"), as_attachment=True, filename=quote.document_name or quote.document.name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
