"""What rooms asks of the parts above it, which fill it in at start-up (in their AppConfig.ready()),
so that rooms never imports them.

- `streamer_ban(user)`: the ban that keeps `user` from streaming now (with `reason` and `until`,
  None: for good), or None. `services.create_room` asks it inside its lock on the owner's row,
  the lock a streamer ban takes too, so no room slips past a ban. Moderation answers it.
- `on_online_streams(name, react)`: in each sweep pass that got the cloud's online list,
  `react(online_streams)` runs under the pass's lock and its count goes in the pass's
  `SweepResult.<name>`. Moderation forbids and drops again the streams of banned rooms there
  (`reforbidden`).
"""


def _no_ban(user):
    return None


_streamer_ban = _no_ban
online_reactions = {}  # SweepResult field name -> react(online_streams) -> int


def streamer_ban(user):
    return _streamer_ban(user)


def answer_streamer_ban(check) -> None:
    global _streamer_ban
    _streamer_ban = check


def on_online_streams(name, react) -> None:
    online_reactions[name] = react
