from rest_framework.throttling import SimpleRateThrottle


class CounterThrottle(SimpleRateThrottle):
    """The counter throttle (joins, heartbeats, leaves, likes): THROTTLE_COUNTER per client.

    `rooms.counters` owns it: it names the client (`counters.client`: the user when signed in,
    else the address, which many viewers behind one carrier may share) and applies the rate, in
    the change's own round trip with Redis, through DRF's cache-based history without.
    """

    scope = "counter"

    def __init__(self, client=""):
        super().__init__()
        self.client = client

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.client}
