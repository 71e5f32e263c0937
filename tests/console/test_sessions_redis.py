"""Console sessions and the lockout count on the real Redis cache, as production runs them: any API
process sees a session and a logout ends it everywhere."""

from __future__ import annotations

from adapters import redis_ports
from console import sessions


async def test_sessions_and_failures_are_shared_through_redis(redis_url: str, key_prefix: str) -> None:
    first, second = redis_ports.connect(redis_url), redis_ports.connect(redis_url)
    try:
        one, other = redis_ports.RedisCache(first, key_prefix), redis_ports.RedisCache(second, key_prefix)
        opened = await sessions.open_session(one, token="signed-token", ttl_s=60)
        assert await sessions.load_session(other, opened.sid) == opened  # another process sees it
        ttl_ms = await first.pttl(f"{key_prefix}cache:{sessions.SESSION_KEY}{opened.sid}")
        assert 0 < ttl_ms <= 60_000  # the session ends by itself
        await sessions.record_failure(one, "housing1", lockout_s=60)
        await sessions.record_failure(other, "housing1", lockout_s=60)
        assert await sessions.failures(one, "housing1") == 2
        await sessions.close_session(other, opened.sid)
        assert await sessions.load_session(one, opened.sid) is None
    finally:
        async for key in first.scan_iter(match=f"{key_prefix}*"):
            await first.delete(key)
        await first.aclose()
        await second.aclose()
