from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail (database)")

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from . import context, triggers

        triggers.register()
        task_prerun.connect(context.task_started, weak=False)
        task_postrun.connect(context.task_finished, weak=False)
