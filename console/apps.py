from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The web console: server-rendered pages (Django templates and htmx) over the apps' services.

    On a tenant's host (`/app/`) the business's own users answer customers, connect numbers and
    read their figures; on the public host (`/app/`) the platform's staff run the platform.
    """

    name = "console"
    verbose_name = "Web console"
