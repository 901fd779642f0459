"""POST /api/imports/ (multipart: kind, file, dry_run) answers 202 with the queued import;
GET /api/imports/{id}/ follows it (status, rows, progress, created, unchanged, errors)."""

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from compliance.imports.kinds import CONTRACT_KINDS
from compliance.imports.services import import_create
from compliance.models import Import
from transactions.api import Body


class ImportErrorItemSerializer(serializers.Serializer):
    """One error of an import, as the contract gives it: {row, column, message}."""

    row = serializers.IntegerField(
        allow_null=True, help_text="The row (2 is the first data row); null for an error about the file as a whole."
    )
    column = serializers.CharField(allow_blank=True, help_text="The column's name; empty when no one column is wrong.")
    message = serializers.CharField()


class ImportSerializer(serializers.ModelSerializer):
    errors = ImportErrorItemSerializer(many=True, read_only=True)

    class Meta:
        model = Import
        fields = [
            "id", "kind", "file_name", "dry_run", "status", "rows", "progress", "created", "unchanged", "errors",
            "error_count", "created_by", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class ImportUpload(Body):
    kind = serializers.ChoiceField(choices=CONTRACT_KINDS)
    file = serializers.FileField()
    dry_run = serializers.BooleanField(default=False)


class ImportViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports from the ERP: queued on upload, run by a worker, kept with their outcome."""

    queryset = Import.objects.all()
    serializer_class = ImportSerializer
    filterset_fields = ["kind", "status"]
    ordering_fields = ["created_at"]

    def get_serializer_class(self):
        return ImportUpload if self.action == "create" else ImportSerializer

    def create(self, request, *args, **kwargs):
        upload = ImportUpload(data=request.data)
        upload.is_valid(raise_exception=True)
        imp = import_create(user=request.user, **upload.validated_data)
        return Response(ImportSerializer(imp).data, status=status.HTTP_202_ACCEPTED)
