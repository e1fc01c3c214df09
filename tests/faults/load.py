"""Load from threads while a fault test breaks a dependency, and what it saw."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests


@dataclass
class Answer:
    job: str
    started: float
    ended: float
    status: int  # 0: no answer (the client's own timeout)
    body: bytes = b""
    retry_after: str | None = None
    content_type: str = ""


@dataclass
class Load:
    """Threads, each repeating one request as fast as it is answered, until `stop()`.

    `jobs` maps a name to (method, url, json body or None) and the number of threads for it.
    """

    jobs: dict
    answers: list = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(name, *request), daemon=True)
            for name, (request, count) in self.jobs.items()
            for _ in range(count)
        ]

    def start(self):
        self.began = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(15)
        self.ended = time.monotonic()
        return self

    def _run(self, name, method, url, body):
        session = requests.Session()
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                response = session.request(method, url, json=body, timeout=10)
                answer = Answer(
                    name,
                    started,
                    time.monotonic(),
                    response.status_code,
                    response.content,
                    response.headers.get("Retry-After"),
                    response.headers.get("Content-Type", ""),
                )
            except requests.RequestException:
                answer = Answer(name, started, time.monotonic(), 0)
            with self._lock:
                self.answers.append(answer)

    def of(self, job, since=None, until=None):
        return [
            a
            for a in self.answers
            if a.job == job and (since is None or a.started >= since) and (until is None or a.ended <= until)
        ]

    def statuses(self, job=None):
        return Counter(a.status for a in self.answers if job is None or a.job == job)

    def rate(self, job, since, until):
        """Answers per second of `job` that started and ended within [since, until]."""
        return len(self.of(job, since, until)) / max(until - since, 1e-9)
