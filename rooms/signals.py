from django.dispatch import Signal

# Sent after the transaction that changed a room's status commits (`services._status_changed`),
# once rooms' own followers (the counters, the list cache) have been called directly.
# Arguments: room_id, old_status, new_status. It stays a signal because its one listener sits
# above rooms: `events.publish` turns it into the room's `status` event and the list's
# `room.live` / `room.ended` (a direct call would make rooms import events).
room_status_changed = Signal()

# Sent by the beat sweep task after each pass that ran, for what runs once a minute with the
# sweep (the stream health check, `monitoring`). Argument: result (a `sweeper.SweepResult`).
sweep_finished = Signal()

# Embedded mode: sent after a change of a room's counts commits (in Redis mode the change
# publishes them on `counters.changes_channel()` itself). Arguments: room_id, viewer_count, like_count.
counts_changed = Signal()
