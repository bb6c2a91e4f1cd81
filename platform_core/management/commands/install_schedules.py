"""Install or update the platform's django-q2 schedules (declared in each app's schedules.py, collected by platform_core.schedules)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from platform_core.schedules import schedules_install


class Command(BaseCommand):
    help = "Make django-q2's schedules match platform_core.schedules. Safe to run any number of times."

    def handle(self, *args, **options) -> None:
        result = schedules_install()
        if options["verbosity"] < 1:
            return
        for label, names in (
            ("created", result.created),
            ("updated", result.updated),
            ("deleted", result.deleted),
            ("unchanged", result.unchanged),
        ):
            for name in names:
                self.stdout.write(f"{label:>9}  {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Schedules: {len(result.created)} created, {len(result.updated)} updated, "
                f"{len(result.deleted)} deleted, {len(result.unchanged)} unchanged."
            )
        )
