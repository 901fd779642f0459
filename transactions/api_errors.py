"""One exception handler for the API: refusals are 409 {"code", "detail"}, bad input 400."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import Refusal


def validation_detail(error: DjangoValidationError) -> dict | list:
    """A Django ValidationError as DRF's field-keyed errors ("__all__" becomes non_field_errors)."""
    if hasattr(error, "error_dict"):
        return {("non_field_errors" if key == "__all__" else key): value for key, value in error.message_dict.items()}
    return {"non_field_errors": error.messages}


def exception_handler(exc, context):
    if isinstance(exc, Refusal):
        return Response({"code": exc.code, "detail": exc.detail}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RecursionError):
        # A body nested deeper than Python can walk, wherever it is read: bad input, not a server error.
        return Response({"detail": _("The request body is nested too deeply.")}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(validation_detail(exc))
    elif isinstance(exc, ProtectedError):
        return Response(
            {"code": "protected", "detail": "This record is used by other records and cannot be deleted."},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, IntegrityError):
        # Validation ran first; this is a concurrent write that took the same unique value.
        return Response(
            {"code": "conflict", "detail": "Another change saved the same record at the same time; try again."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


# --- The same errors, documented in the OpenAPI schema ----------------------------------------------

_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}, "code": {"type": "string"}}}
_REFUSAL = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "detail": {"type": "string"}},
    "required": ["code", "detail"],
}
_FIELD_ERRORS = {
    "type": "object",
    "description": "Field-keyed errors: each field names a list of sentences (non_field_errors for the whole).",
    "additionalProperties": True,
}


def document_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: every operation documents the errors the API can answer with,
    so clients (and schema-driven tests) know every status code they may see."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.update({"ErrorDetail": _DETAIL, "Refusal": _REFUSAL, "FieldErrors": _FIELD_ERRORS})

    def response(description: str, schema: str) -> dict:
        return {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }

    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/") or path.startswith("/api/schema"):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", response("Not signed in (no or an invalid token).", "ErrorDetail"))
            responses.setdefault("403", response("The user's role may not do this.", "ErrorDetail"))
            responses.setdefault("400", response("Invalid input.", "FieldErrors"))
            if "{" in path or method == "get":
                responses.setdefault("404", response("No such record (or, for a list, no such page).", "ErrorDetail"))
            if method in {"post", "put", "patch", "delete"}:
                responses.setdefault("409", response("A compliance rule refused the action.", "Refusal"))
            if "requestBody" in operation:
                # DRF's answer to a body it cannot take as any accepted media type (e.g. a multipart body
                # whose parts do not parse).
                responses.setdefault("415", response("The body's media type is not one accepted here.", "ErrorDetail"))
    return result


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The project's 404: JSON under /api/ (e.g. a malformed id in a path), the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
