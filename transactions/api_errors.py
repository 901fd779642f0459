"""One exception handler for the API: refusals are 409 {"code", "detail"}, bad input 400."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
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
