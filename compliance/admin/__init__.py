"""The admin pages, one module per subject; importing this package registers them all on the site.

The order pages (orders.py) come first: the sales pages (sales.py) build on them, and the categories and caps
(caps.py) and alerts (alerts.py) pages sit beside them. The site itself, with the dashboard and the language
switcher, is site.py (compliance.apps makes it the admin's default site).
"""

from compliance.admin import (  # noqa: F401 (each module registers its pages)
    alerts,
    breaches,
    caps,
    imports,
    lifecycle,
    monitoring,
    orders,
    report_jobs,
    sales,
    users,
)
