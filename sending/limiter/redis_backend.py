"""The Redis limiter: the same GCRA and quota windows as the PostgreSQL backend, as Lua scripts.

A script runs atomically in Redis, so a reservation for many keys, or an all-or-nothing quota
consume, is one round trip that no other client can interleave with. Redis's own clock (`TIME`)
is the only clock involved. Floats cross the Lua boundary as strings (`%.17g`), which round-trip
exactly. Multi-key scripts need every key on one node: with Redis Cluster, put the keys of one
call under one hash tag.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import redis as redis_lib

from sending.limiter.base import Grant, QuotaDecision, QuotaWindow, RateLimiter

RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, tau, horizon, lead = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[4 + i])
  local tat = tonumber(redis.call('GET', key) or now)
  local start = math.max(tat, now + lead)
  local granted = math.floor((now + horizon - (start - tau)) / interval) + 1
  granted = math.max(0, math.min(n, granted))
  local new_tat = start + granted * interval
  if granted > 0 then
    local ttl_ms = math.ceil((new_tat - now) * 1000) + 1000
    redis.call('SET', key, string.format('%.17g', new_tat), 'PX', ttl_ms)
  end
  out[i] = {string.format('%.17g', new_tat), granted, string.format('%.17g', now)}
end
return out
"""

RELEASE_LUA = """
local current = redis.call('GET', KEYS[1])
if not current or math.abs(tonumber(current) - tonumber(ARGV[1])) > 1e-7 then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
local new_tat = tonumber(current) - tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', ttl)
else
  redis.call('SET', KEYS[1], string.format('%.17g', new_tat))
end
return 1
"""

RELEASE_MANY_LUA = """
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = 0
  local current = redis.call('GET', key)
  if current and math.abs(tonumber(current) - tonumber(ARGV[2 * i - 1])) <= 1e-7 then
    local ttl = redis.call('PTTL', key)
    local new_tat = string.format('%.17g', tonumber(current) - tonumber(ARGV[2 * i]))
    if ttl > 0 then redis.call('SET', key, new_tat, 'PX', ttl) else redis.call('SET', key, new_tat) end
    out[i] = 1
  end
end
return out
"""

CONSUME_LUA = """
local amount = tonumber(ARGV[1])
local n = #KEYS
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') + amount > tonumber(ARGV[1 + i]) then return i end
end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, amount)
  redis.call('EXPIREAT', key, tonumber(ARGV[1 + n + i]))
end
return 0
"""


class RedisRateLimiter(RateLimiter):
    def __init__(self, url: str, *, namespace: str = "wa:rl:") -> None:
        self.namespace = namespace
        self._redis = redis_lib.Redis.from_url(url)
        self._reserve = self._redis.register_script(RESERVE_LUA)
        self._release = self._redis.register_script(RELEASE_LUA)
        self._release_many = self._redis.register_script(RELEASE_MANY_LUA)
        self._consume = self._redis.register_script(CONSUME_LUA)

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
        tau = max(0, burst - 1) * interval_s
        keys = [self.namespace + key for key, _ in requests]
        args: list[str | int] = [repr(interval_s), repr(tau), repr(horizon_s), repr(lead_s), *[count for _, count in requests]]
        rows = self._reserve(keys=keys, args=args)
        return [
            Grant.from_store(
                key=key,
                requested=count,
                granted=int(granted),
                interval_s=interval_s,
                burst=burst,
                tat=float(tat_text),
                now=float(now_text),
            )
            for (key, count), (tat_text, granted, now_text) in zip(requests, rows, strict=True)
        ]

    def release(self, *, grant: Grant, unused: int) -> bool:
        unused = min(unused, grant.granted)
        if unused <= 0:
            return False
        done = self._release(
            keys=[self.namespace + grant.key], args=[repr(grant.tat), repr(unused * grant.interval_s)]
        )
        return bool(done)

    def release_many(self, *, releases: Sequence[tuple[Grant, int]]) -> list[bool]:
        """One script for every key, each released only if its tat is still the grant's."""
        wanted = [(grant, min(unused, grant.granted)) for grant, unused in releases]
        todo = [(grant, unused) for grant, unused in wanted if unused > 0]
        if not todo:
            return [False] * len(wanted)
        args: list[str] = []
        for grant, unused in todo:
            args += [repr(grant.tat), repr(unused * grant.interval_s)]
        done = self._release_many(keys=[self.namespace + grant.key for grant, _ in todo], args=args)
        released = iter(int(ok) == 1 for ok in done)
        return [unused > 0 and next(released) for grant, unused in wanted]

    def quota_consume(self, *, windows: Sequence[QuotaWindow], amount: int) -> QuotaDecision:
        if not windows or amount <= 0:
            return QuotaDecision(allowed=True)
        refused = self._consume(
            keys=[self.namespace + w.key for w in windows],
            args=[
                amount,
                *[w.limit for w in windows],
                *[math.ceil(w.expires_at.timestamp()) for w in windows],
            ],
        )
        if not refused:
            return QuotaDecision(allowed=True)
        return QuotaDecision.refused_by(windows[int(refused) - 1])

    def quota_refund(self, *, windows: Sequence[QuotaWindow], amount: int) -> None:
        if not windows or amount <= 0:
            return
        with self._redis.pipeline(transaction=False) as pipe:
            for window in windows:
                pipe.decrby(self.namespace + window.key, amount)
            pipe.execute()

    def quota_counts(self, *, windows: Sequence[QuotaWindow]) -> list[int]:
        if not windows:
            return []
        values = self._redis.mget([self.namespace + w.key for w in windows])
        return [max(0, int(value)) if value is not None else 0 for value in values]

    def purge_expired(self) -> int:
        return 0  # every key carries its own expiry

    def reset(self, *, prefix: str = "") -> None:
        keys = list(self._redis.scan_iter(match=self.namespace + prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            self._redis.delete(*keys[start : start + 500])
