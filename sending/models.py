"""Shared state of the send rate limiter and quotas (public schema), used by the PostgreSQL backend.

Every process and machine that sends reads and writes these rows, so limits hold whatever the
number of web and worker processes. Keys are platform-wide: a phone_number_id is unique across
tenants, and quota keys carry the tenant's schema name.
"""

from __future__ import annotations

from django.db import models


class RateBucket(models.Model):
    """GCRA state of one key: `tat`, the theoretical arrival time of its next unit.

    Times are seconds since the epoch on the database's clock, so machines with skewed clocks
    still agree. `requested`, `granted` and `reserved_at` describe the latest reservation and are
    read back by the statement that made it (see sending.limiter.postgres). The table is
    UNLOGGED: losing it in a database crash only forgets who sent recently.
    """

    key = models.CharField(primary_key=True, max_length=255)
    tat = models.FloatField()
    requested = models.IntegerField(default=0)
    granted = models.IntegerField(default=0)
    reserved_at = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["tat"], name="ratebucket_tat")]

    def __str__(self) -> str:
        return self.key


class QuotaCounter(models.Model):
    """Messages accepted in one fixed window (a minute, a UTC day or month) for one tenant or account."""

    key = models.CharField(primary_key=True, max_length=255)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="quotacounter_expires")]

    def __str__(self) -> str:
        return f"{self.key}={self.count}"
