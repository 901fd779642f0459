"""What a user chooses for themselves: the language the product speaks to them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Preference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Empty: the language the browser asks for."),
    )

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'browser'}"
