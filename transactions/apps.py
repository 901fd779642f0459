from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def _register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        from .money import sqlite_mul_div_round

        connection.connection.create_function("cct_mul_div_round", 3, sqlite_mul_div_round, deterministic=True)


class TransactionsConfig(AppConfig):
    name = "transactions"
    verbose_name = _("Transactions (facts)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(_register_sqlite_functions, dispatch_uid="cct_sqlite_functions")
