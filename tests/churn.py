"""Churn: rooms going live and ending, counts changing, while a test walks the list."""

import random
import threading
import uuid

from django.db import connection

from accounts.models import User
from rooms import counters, services
from rooms.models import Room, RoomEvent


class Churn:
    """Threads that open rooms and take them live, close others, and change counts (flushed to
    the database, so the count orderings really reorder) until stopped."""

    def __init__(self, steady, transient, threads=3, pause=0.0):
        self.steady, self.transient = [room.pk for room in steady], list(transient)
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.events, self.errors, self.opened, self.closed, self.pause = 0, [], 0, 0, pause
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        assert not self.errors, self.errors

    def wait(self, events=3):
        """Let at least `events` changes happen (between two pages of a walk)."""
        target = self.events + events
        while self.events < target and not self.errors:
            threading.Event().wait(0.002)

    def _run(self, seed):
        rng = random.Random(seed)
        try:
            while not self.stop.wait(self.pause):
                self._step(rng)
                with self.lock:
                    self.events += 1
        except Exception as exc:  # reported by __exit__
            self.errors.append(exc)
        finally:
            connection.close()

    def _step(self, rng):
        choice = rng.random()
        if choice < 0.3:
            owner = User.objects.create_user(f"n{uuid.uuid4().hex[:10]}", password="x")
            room = services.create_room(owner, title="Just started")
            services.mark_live(room, source=RoomEvent.Source.API)
            change(room.pk, rng.choice(counters.FIELDS), rng.randint(0, 300))
            with self.lock:
                self.transient.append(room)
                self.opened += 1
        elif choice < 0.55:
            with self.lock:
                room = self.transient.pop(rng.randrange(len(self.transient))) if self.transient else None
            if room is not None:
                services.close_room(room, reason=Room.CloseReason.OWNER, source=RoomEvent.Source.API)
                with self.lock:
                    self.closed += 1
        else:
            for pk in rng.sample(self.steady, 5):
                change(pk, rng.choice(counters.FIELDS), rng.randint(-150, 150))
            counters.flush()


def change(room_id, field, amount):
    """Likes up or down by `amount`; viewers: `amount` new ones join, or as many as that leave."""
    if field == "like_count":
        counters.like(room_id, amount)
    elif amount > 0:
        counters.join_all(room_id, [counters.new_viewer() for _ in range(amount)])
    else:
        for viewer in counters.watching(room_id)[:-amount]:
            counters.leave(room_id, viewer)
