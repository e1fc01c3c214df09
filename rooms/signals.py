from django.dispatch import Signal

# Sent after the transaction that changed a room's status commits.
# Arguments: room_id, old_status, new_status.
room_status_changed = Signal()

# Sent by the beat sweep task after each pass that ran, for what runs once a minute with the
# sweep (the stream health check, `monitoring`). Argument: result (a `sweeper.SweepResult`).
sweep_finished = Signal()

# Embedded mode: sent after a change of a room's counts commits (in Redis mode the change
# publishes them on `counters.changes_channel()` itself). Arguments: room_id, viewer_count, like_count.
counts_changed = Signal()
