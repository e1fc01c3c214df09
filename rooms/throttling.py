from rest_framework.throttling import SimpleRateThrottle

from liveroom.redis import key


class CounterThrottle(SimpleRateThrottle):
    """Joins and likes per client address: they need no account, so the address is what we know.

    With Redis the count is kept by the counter script itself (`redis_spec`), in the same round
    trip as the change; without it DRF applies this class as usual.
    """

    scope = "counter"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def redis_spec(self, request):
        """`(redis key, limit, window seconds)` for `counters.increment`, None when unlimited."""
        if self.rate is None:
            return None
        return key("throttle", self.scope, self.get_ident(request)), self.num_requests, self.duration
