"""Every model change has its migration: a model edited without one would pass the tests (they build
the schema from the migrations) and then differ from what production migrates to."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"Models and migrations differ; run `manage.py makemigrations`:\n{out.getvalue()}")
