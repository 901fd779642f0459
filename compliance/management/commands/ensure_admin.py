"""Create the first admin login once, and say how to log in.

The username and password come from DJANGO_ADMIN_USERNAME / DJANGO_ADMIN_PASSWORD when set;
otherwise the username is "admin" and a random password is generated and printed this one time
(Django keeps only its hash). Later runs leave the login alone.
"""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin login if it does not exist yet (printed once)."

    def handle(self, *args, **options) -> None:
        username = os.environ.get("DJANGO_ADMIN_USERNAME", "admin")
        password = os.environ.get("DJANGO_ADMIN_PASSWORD", "")
        email = os.environ.get("DJANGO_ADMIN_EMAIL", "")
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"Admin login: {username} (its password was printed when it was created).")
            return
        generated = not password
        password = password or secrets.token_urlsafe(12)
        users.create_superuser(username=username, email=email, password=password)
        self.stdout.write(self.style.SUCCESS(f"Admin login created: {username}"))
        if generated:
            self.stdout.write(self.style.WARNING(f"Password (shown only now): {password}"))
