"""Public-schema models of the platform itself: the heartbeats of its long-running processes."""

from __future__ import annotations

from django.db import models


class ProcessHeartbeat(models.Model):
    """The latest sign of life of one worker process, written every few seconds by its loop.

    One row per (process type, host, pid); `last_beat_at` is on the database's clock, so hosts with
    skewed clocks agree. Rows of processes gone for a day are deleted by the beats of the others
    (platform_core.heartbeats); the readiness check and the metrics read the freshest per type.
    """

    process_type = models.CharField(max_length=32)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField()

    class Meta:
        db_table = "platform_process_heartbeat"
        constraints = [
            models.UniqueConstraint(fields=["process_type", "host", "pid"], name="process_heartbeat_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.process_type} {self.host}:{self.pid}"


class MetricCounter(models.Model):
    """One counter series' increase during one minute, summed over the processes that counted it.

    Written by each process's counter flush (platform_core.counters), one upsert per flush; the row
    of minute = the Unix epoch holds everything older than the last hour. `labels` is the series'
    labels as JSON with sorted keys. `/metrics` and the platform console's health page read it.
    """

    name = models.CharField(max_length=100)
    labels = models.TextField()
    minute = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        db_table = "platform_metric_counter"
        constraints = [
            models.UniqueConstraint(fields=["name", "labels", "minute"], name="metric_counter_unique"),
        ]
        indexes = [models.Index(fields=["minute"], name="metric_counter_minute")]

    def __str__(self) -> str:
        return f"{self.name}{self.labels} @ {self.minute:%Y-%m-%d %H:%M}"
