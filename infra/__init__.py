"""The project's shared connections and coordination: the one Redis client (`redis`, with its
circuit breaker `breaker` and Sentinel discovery `sentinel`), Django's cache on it (`cache`),
locks across processes (`locks`) and once-per-interval claims for beat tasks (`beat`)."""
