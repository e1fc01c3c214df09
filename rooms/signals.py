from django.dispatch import Signal

# Sent after the transaction that changed a room's status commits.
# Arguments: room_id, old_status, new_status.
room_status_changed = Signal()
