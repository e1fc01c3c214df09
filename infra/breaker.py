"""A circuit breaker in front of Redis, so that a dead or hanging Redis costs one short timeout.

Every Redis round trip of ours runs through redis-py's `Retry.call_with_retry` (commands,
pipelines, scripts, connects, health checks), so the breaker sits there, as the connections'
retry policy (`BreakerRetry`):

- closed (Redis answers): the call runs as it is; the first call that fails for want of Redis
  (refused, reset, timed out, still loading its data) opens the circuit;
- open: for `REDIS_BREAKER_SECONDS` every call fails at once with `Unavailable`, no socket
  touched, so a hanging Redis costs at most one socket timeout per connection in use;
- then one call is let through (half-open): if Redis answers the circuit closes, else it opens again.

The state machine is pybreaker's. Its `call()` holds the breaker's lock for the length of the
call, which would make the threads of a process take turns at Redis, so closed-state calls run
outside it and only a failure is reported (`open()`); pybreaker's `call()` runs only while the
circuit is open, for one thread at a time: while a trial call is in flight, other threads fail
at once rather than wait up to a timeout for it.

A connection error on a pooled connection (Redis restarted, say) is retried once on a new
connection before it counts; a timeout is not retried.
"""

import logging
import math
import threading
from datetime import UTC, datetime, timedelta

import pybreaker
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

# Failures that say Redis cannot be reached (BusyLoadingError, a Redis still loading its data,
# is a ConnectionError). Anything else (a script error, a wrong type) is Redis answering.
FAILURES = (redis.ConnectionError, redis.TimeoutError, OSError)


class Unavailable(redis.ConnectionError):
    """Redis was not tried: the circuit is open after a recent failure."""


class _Closed(pybreaker.CircuitBreakerListener):
    """Whether the circuit is closed, as a plain attribute: reading pybreaker's `current_state`
    costs a few property calls, on every round trip. `trial` is held by the thread whose call
    the open circuit lets through, so that the others fail at once instead of waiting for it."""

    closed = True

    def __init__(self):
        self.trial = threading.RLock()  # re-entered by the call's own connect

    def state_change(self, cb, old_state, new_state):
        self.closed = new_state.name == pybreaker.STATE_CLOSED
        if old_state is None or old_state.name == new_state.name:
            return
        if new_state.name == pybreaker.STATE_OPEN:
            log.warning("Redis %s unreachable: not tried for %s s", cb.name, cb.reset_timeout)
        elif self.closed:
            log.warning("Redis %s answers again", cb.name)


def new_breaker(name, reset_timeout) -> pybreaker.CircuitBreaker:
    return pybreaker.CircuitBreaker(
        fail_max=1,
        reset_timeout=reset_timeout,
        exclude=[lambda exc: not isinstance(exc, FAILURES)],
        listeners=[_Closed()],
        name=name,
        throw_new_error_on_trip=False,  # callers see redis-py's own error
    )


def retry_after(breaker) -> int:
    """Whole seconds until the breaker lets a call through again (at least 1)."""
    opened_at = breaker._state_storage.opened_at
    if breaker.current_state == pybreaker.STATE_CLOSED or opened_at is None:
        return max(1, math.ceil(breaker.reset_timeout))
    left = opened_at + timedelta(seconds=breaker.reset_timeout) - datetime.now(UTC)
    return max(1, math.ceil(left.total_seconds()))


class BreakerRetry(Retry):
    """redis-py's retry policy (one retry of a connection error, none of a timeout) behind `breaker`."""

    def __init__(self, breaker, retries=1):
        super().__init__(NoBackoff(), retries, supported_errors=(redis.ConnectionError,))
        self.breaker = breaker
        self.state = next(listener for listener in breaker.listeners if isinstance(listener, _Closed))

    def __deepcopy__(self, memo):  # each connection copies its retry policy: they share the breaker
        return BreakerRetry(self.breaker, self._retries)

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        if self.state.closed:
            try:
                return Retry.call_with_retry(self, do, fail, is_retryable, with_failure_count)
            except FAILURES:
                self.breaker.open()
                raise
        if not self.state.trial.acquire(blocking=False):
            raise Unavailable(f"Redis {self.breaker.name} is being tried by another call")
        try:
            return self.breaker.call(Retry.call_with_retry, self, do, fail, is_retryable, with_failure_count)
        except pybreaker.CircuitBreakerError:
            raise Unavailable(f"Redis {self.breaker.name} is not tried for a few seconds after a failure") from None
        finally:
            self.state.trial.release()
