"""The Celery app: `celery -A config worker --beat` runs a worker with the scheduler."""

import os

from celery import Celery

from compliance.jobs.schedule import beat_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = beat_schedule()
app.autodiscover_tasks()
