"""The PostgreSQL limiter: one row per key in the public schema, updated atomically by one statement.

A reservation is a single `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`: PostgreSQL locks the
key's row for the statement, so concurrent reservations from any number of processes queue on
it and each sees the tat the previous one left. The database clock (`clock_timestamp()`) is the
only clock involved. Runs on Django's default connection: outside a transaction every call
commits at once; inside one it commits (or rolls back) with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction

from sending.limiter.base import Grant, QuotaDecision, QuotaWindow, RateLimiter

BUCKETS = "public.ratelimit_ratebucket"
COUNTERS = "public.ratelimit_quotacounter"

# base = max(tat, now + lead) - tau; units conform at base + k*T; grant those within now + horizon.
_GRANTED = (
    "LEAST({n}, GREATEST(0, FLOOR(({now} + %(horizon)s - (GREATEST({tat}, {now} + %(lead)s) - %(tau)s))"
    " / %(interval)s) + 1))"
)
_NEW = _GRANTED.format(n="r.n", now="c.now", tat="c.now")
_UPDATED = _GRANTED.format(n="EXCLUDED.requested", now="EXCLUDED.reserved_at", tat="b.tat")

RESERVE_SQL = f"""
WITH c AS MATERIALIZED (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
     r AS (SELECT * FROM unnest(%(keys)s::text[], %(counts)s::int[]) AS r(key, n))
INSERT INTO {BUCKETS} AS b (key, tat, requested, granted, reserved_at)
SELECT r.key, c.now + %(lead)s + {_NEW} * %(interval)s, r.n, {_NEW}, c.now FROM r, c
ON CONFLICT (key) DO UPDATE SET
    tat = GREATEST(b.tat, EXCLUDED.reserved_at + %(lead)s) + {_UPDATED} * %(interval)s,
    granted = {_UPDATED},
    requested = EXCLUDED.requested,
    reserved_at = EXCLUDED.reserved_at
RETURNING b.key, b.tat, b.granted, b.reserved_at
"""

RELEASE_SQL = (
    f"UPDATE {BUCKETS} SET tat = tat - %(give_back)s WHERE key = %(key)s AND abs(tat - %(tat)s) < 1e-7"
)

RELEASE_MANY_SQL = f"""
UPDATE {BUCKETS} AS b SET tat = b.tat - r.give_back
FROM unnest(%(keys)s::text[], %(tats)s::float8[], %(give_backs)s::float8[]) AS r(key, tat, give_back)
WHERE b.key = r.key AND abs(b.tat - r.tat) < 1e-7
RETURNING b.key, r.tat
"""

CONSUME_SQL = f"""
WITH w AS (SELECT * FROM unnest(%(keys)s::text[], %(limits)s::int[], %(expires)s::timestamptz[])
           AS w(key, lim, expires_at))
INSERT INTO {COUNTERS} AS q (key, count, expires_at)
SELECT w.key, %(amount)s, w.expires_at FROM w
ON CONFLICT (key) DO UPDATE SET count = q.count + EXCLUDED.count
    WHERE q.count + EXCLUDED.count <= (SELECT w.lim FROM w WHERE w.key = EXCLUDED.key)
RETURNING q.key, q.count
"""


class _QuotaRefused(Exception):
    """Rolls the savepoint of an all-or-nothing consume back."""


class PostgresRateLimiter(RateLimiter):
    def __init__(self, *, namespace: str = "") -> None:
        self.namespace = namespace

    def reserve_many(
        self,
        *,
        requests: Sequence[tuple[str, int]],
        interval_s: float,
        burst: int,
        horizon_s: float,
        lead_s: float = 0.0,
    ) -> list[Grant]:
        if not requests:
            return []
        keys = [self.namespace + key for key, _ in requests]
        counts = [count for _, count in requests]
        tau = max(0, burst - 1) * interval_s
        params: dict[str, Any] = {
            "keys": keys,
            "counts": counts,
            "interval": interval_s,
            "tau": tau,
            "horizon": horizon_s,
            "lead": lead_s,
        }
        with connection.cursor() as cursor:
            cursor.execute(RESERVE_SQL, params)
            rows = {row[0]: row[1:] for row in cursor.fetchall()}
        return [
            Grant.from_store(
                key=key,
                requested=count,
                granted=rows[self.namespace + key][1],
                interval_s=interval_s,
                burst=burst,
                tat=rows[self.namespace + key][0],
                now=rows[self.namespace + key][2],
            )
            for key, count in requests
        ]

    def release(self, *, grant: Grant, unused: int) -> bool:
        unused = min(unused, grant.granted)
        if unused <= 0:
            return False
        with connection.cursor() as cursor:
            cursor.execute(
                RELEASE_SQL, {"give_back": unused * grant.interval_s, "key": self.namespace + grant.key, "tat": grant.tat}
            )
            return cursor.rowcount == 1

    def release_many(self, *, releases: Sequence[tuple[Grant, int]]) -> list[bool]:
        """One UPDATE for every key, each row changed only if its tat is still the grant's."""
        wanted = [(grant, min(unused, grant.granted)) for grant, unused in releases]
        todo = sorted((self.namespace + grant.key, grant.tat, unused * grant.interval_s)  # a fixed lock order
                      for grant, unused in wanted if unused > 0)
        if not todo:
            return [False] * len(wanted)
        with connection.cursor() as cursor:
            cursor.execute(
                RELEASE_MANY_SQL,
                {"keys": [t[0] for t in todo], "tats": [t[1] for t in todo], "give_backs": [t[2] for t in todo]},
            )
            done = {(key, tat) for key, tat in cursor.fetchall()}
        # A key given twice (two reservations for one recipient) can match only the latest one.
        return [unused > 0 and (self.namespace + grant.key, grant.tat) in done for grant, unused in wanted]

    def quota_consume(self, *, windows: Sequence[QuotaWindow], amount: int) -> QuotaDecision:
        if not windows or amount <= 0:
            return QuotaDecision(allowed=True)
        for window in windows:  # a new row is inserted without the limit check
            if amount > window.limit:
                return QuotaDecision.refused_by(window)
        params: dict[str, Any] = {
            "keys": [self.namespace + w.key for w in windows],
            "limits": [w.limit for w in windows],
            "expires": [w.expires_at for w in windows],
            "amount": amount,
        }
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(CONSUME_SQL, params)
                    moved = {row[0] for row in cursor.fetchall()}
                if len(moved) < len(windows):
                    raise _QuotaRefused(next(w for w in windows if self.namespace + w.key not in moved))
        except _QuotaRefused as refused:
            return QuotaDecision.refused_by(refused.args[0])
        return QuotaDecision(allowed=True)

    def quota_refund(self, *, windows: Sequence[QuotaWindow], amount: int) -> None:
        if not windows or amount <= 0:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {COUNTERS} SET count = GREATEST(0, count - %s) WHERE key = ANY(%s)",
                [amount, [self.namespace + w.key for w in windows]],
            )

    def quota_counts(self, *, windows: Sequence[QuotaWindow]) -> list[int]:
        if not windows:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT key, count FROM {COUNTERS} WHERE key = ANY(%s) AND expires_at > clock_timestamp()",
                [[self.namespace + w.key for w in windows]],
            )
            counts = dict(cursor.fetchall())
        return [int(counts.get(self.namespace + w.key, 0)) for w in windows]

    def purge_expired(self) -> int:
        with connection.cursor() as cursor:
            # A key whose tat has passed is indistinguishable from a key never seen.
            cursor.execute(f"DELETE FROM {BUCKETS} WHERE tat < extract(epoch FROM clock_timestamp()) - 1")
            purged = cursor.rowcount
            cursor.execute(f"DELETE FROM {COUNTERS} WHERE expires_at < clock_timestamp()")
            return purged + cursor.rowcount

    def reset(self, *, prefix: str = "") -> None:
        pattern = (self.namespace + prefix).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {BUCKETS} WHERE key LIKE %s", [pattern])
            cursor.execute(f"DELETE FROM {COUNTERS} WHERE key LIKE %s", [pattern])

