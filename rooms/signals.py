from django.dispatch import Signal

# Sent after the transaction that changed a room's status commits.
# Arguments: room_id, old_status, new_status.
room_status_changed = Signal()

# Embedded mode: sent after a change of a room's counts commits (in Redis mode the change
# publishes them on `counters.changes_channel()` itself). Arguments: room_id, viewer_count, like_count.
counts_changed = Signal()
