from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail (database)"

    def ready(self) -> None:
        from . import triggers

        triggers.register()
