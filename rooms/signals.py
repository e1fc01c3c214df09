from django.dispatch import Signal

# Sent after the transaction that changed a room's status commits.
# Arguments: room_id, old_status, new_status.
room_status_changed = Signal()

# Sent by the beat sweep task after each pass that ran, for what runs once a minute with the
# sweep (the stream health check, `monitoring`). Argument: result (a `sweeper.SweepResult`).
sweep_finished = Signal()
