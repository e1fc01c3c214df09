"""Redis Lua scripts of the counters (see `rooms.counters` for the keys they work on).

Each runs atomically inside Redis, which is what makes a change, a load or a claim one step.
Per-room keys are `{prefix}viewers:{id}` (sorted set: viewer → the time they stop counting, in
ms) and
`{prefix}views:{id}` (HyperLogLog of every viewer so far); scripts that touch many rooms are
given the prefix and build them.
"""

# Redis's clock, in whole milliseconds: every node of the application measures viewers against
# the same one, and an integer score takes 9 bytes in a small sorted set (a fraction, 18).
_NOW = """
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ms(seconds)
  return math.floor(tonumber(seconds) * 1000)
end
"""

# Set a room's counts from the database unless Redis holds them already at the same or a newer
# seq. Watching now is what the room's viewer set says; when that differs from the database's
# figure, the room is marked dirty (under a newer seq) so that the flush writes it.
# `views` continues the HyperLogLog when Redis still has it, else counts on from the database's.
_PUT = (
    _NOW
    + """
local function put(counts, dirty, p, id, viewers, likes, seq, peak, views)
  local held = redis.call('HGET', counts, id .. ':seq')
  if held ~= false and tonumber(held) >= tonumber(seq) then return end
  local set = p .. 'viewers:' .. id
  redis.call('ZREMRANGEBYSCORE', set, '-inf', now())
  local watching = redis.call('ZCARD', set)
  local estimate = redis.call('PFCOUNT', p .. 'views:' .. id)
  local base = math.max(tonumber(views) - estimate, 0)
  if watching ~= tonumber(viewers) then
    seq = tonumber(seq) + 1
    redis.call('SADD', dirty, id)
  end
  redis.call('HSET', counts, id .. ':viewer_count', watching, id .. ':like_count', likes, id .. ':seq', seq,
    id .. ':peak', math.max(tonumber(peak), watching), id .. ':views', base + estimate, id .. ':vbase', base)
end
"""
)

# A room left live: nobody watches it any more. Its counts stay (marked dirty) for the flush.
_OFF = """
local function off(counts, dirty, p, id)
  redis.call('DEL', p .. 'viewers:' .. id)
  if redis.call('HEXISTS', counts, id .. ':seq') == 1 and redis.call('HGET', counts, id .. ':viewer_count') ~= '0' then
    redis.call('HSET', counts, id .. ':viewer_count', 0)
    redis.call('HINCRBY', counts, id .. ':seq', 1)
  end
  redis.call('SADD', dirty, id)
end
"""

# KEYS: counts, live, ready, dirty, throttle, viewers, views, changes channel.
# ARGV: id, op (like | join | beat | leave), amount (like) or viewer, seconds the viewer counts
# for, throttle limit ('' = none), throttle window, seconds the views HyperLogLog is kept.
# A change that changed a count publishes the room's counts on the changes channel (the
# real-time events), in the same round trip.
# Returns {count}, {-3, seconds to wait}, {-2} (live set unknown) or {-1} (not in the live set).
# Expiry: each change on a room first drops that room's viewers whose time is up
# (ZREMRANGEBYSCORE, O(log n + expired)); each viewer is dropped once, so a change costs
# O(log n) amortised whatever the room's size. Rooms nobody touches are trimmed by the flush.
_PUBLISH = """
local function publish(channel, counts, id)
  local c = redis.call('HMGET', counts, id .. ':viewer_count', id .. ':like_count')
  redis.call('PUBLISH', channel, '{"id":' .. id .. ',"viewer_count":' .. c[1] .. ',"like_count":' .. c[2] .. '}')
end
"""

CHANGE = (
    _NOW
    + _PUBLISH
    + """
local id, op, limit = ARGV[1], ARGV[2], tonumber(ARGV[5])
if limit then
  local used = redis.call('INCR', KEYS[5])
  if used == 1 then redis.call('EXPIRE', KEYS[5], ARGV[6]) end
  if used > limit then return {-3, redis.call('TTL', KEYS[5])} end
end
if redis.call('EXISTS', KEYS[3]) == 0 then return {-2} end
local seq = id .. ':seq'
if redis.call('SISMEMBER', KEYS[2], id) == 0 or redis.call('HEXISTS', KEYS[1], seq) == 0 then return {-1} end
if op == 'like' then
  local field = id .. ':like_count'
  local value = redis.call('HINCRBY', KEYS[1], field, ARGV[3])
  if value < 0 then
    value = 0
    redis.call('HSET', KEYS[1], field, 0)
  end
  redis.call('HINCRBY', KEYS[1], seq, 1)
  redis.call('SADD', KEYS[4], id)
  publish(KEYS[8], KEYS[1], id)
  return {value}
end
local t = now()
local changed = false
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', t)
if op == 'leave' then
  redis.call('ZREM', KEYS[6], ARGV[3])
else
  redis.call('ZADD', KEYS[6], 'GT', t + ms(ARGV[4]), ARGV[3])  -- GT: a later time only, never an earlier one
  if redis.call('PFADD', KEYS[7], ARGV[3]) == 1 then
    redis.call('EXPIRE', KEYS[7], ARGV[7])
    local base = tonumber(redis.call('HGET', KEYS[1], id .. ':vbase') or '0')
    redis.call('HSET', KEYS[1], id .. ':views', base + redis.call('PFCOUNT', KEYS[7]))
    changed = true
  end
end
local watching = redis.call('ZCARD', KEYS[6])
if tonumber(redis.call('HGET', KEYS[1], id .. ':viewer_count')) ~= watching then
  redis.call('HSET', KEYS[1], id .. ':viewer_count', watching)
  if watching > tonumber(redis.call('HGET', KEYS[1], id .. ':peak') or '0') then
    redis.call('HSET', KEYS[1], id .. ':peak', watching)
  end
  changed = true
end
if changed then
  redis.call('HINCRBY', KEYS[1], seq, 1)
  redis.call('SADD', KEYS[4], id)
  publish(KEYS[8], KEYS[1], id)
end
return {watching}
"""
)

# KEYS: counts, live, gen, dirty.  ARGV: gen as read before the database, prefix, id, viewers,
# likes, seq, peak, views.
LOAD = (
    _PUT
    + """
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[1] then return 0 end
put(KEYS[1], KEYS[4], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
"""
)

# KEYS: counts, live, dirty.  ARGV: prefix, id.
OFF = (
    _OFF
    + """
redis.call('SREM', KEYS[2], ARGV[2])
off(KEYS[1], KEYS[3], ARGV[1], ARGV[2])
return 1
"""
)

# KEYS: counts, live, ready, dirty, gen, scratch set.
# ARGV: gen, ready ttl, prefix, then id, viewers, likes, seq, peak, views ...
SYNC = (
    _PUT
    + _OFF
    + """
if (redis.call('GET', KEYS[5]) or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[6])
for i = 4, #ARGV, 6 do
  put(KEYS[1], KEYS[4], ARGV[3], ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5])
  redis.call('SADD', KEYS[6], ARGV[i])
end
for _, id in ipairs(redis.call('SDIFF', KEYS[2], KEYS[6])) do
  off(KEYS[1], KEYS[4], ARGV[3], id)
end
if redis.call('EXISTS', KEYS[6]) == 1 then
  redis.call('RENAME', KEYS[6], KEYS[2])
else
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
return 1
"""
)

# KEYS: counts, live, dirty.  ARGV: prefix, then room ids.
# The flush's part of expiry: drops the viewers whose time is up from each of these live rooms
# and marks the rooms whose count changed. One pass over the live rooms per flush.
TRIM = (
    _NOW
    + """
local t, changed = now(), 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('SISMEMBER', KEYS[2], id) == 1 and redis.call('HEXISTS', KEYS[1], id .. ':seq') == 1 then
    local set = ARGV[1] .. 'viewers:' .. id
    if redis.call('ZREMRANGEBYSCORE', set, '-inf', t) > 0 then
      local watching = redis.call('ZCARD', set)
      if tonumber(redis.call('HGET', KEYS[1], id .. ':viewer_count')) ~= watching then
        redis.call('HSET', KEYS[1], id .. ':viewer_count', watching)
        redis.call('HINCRBY', KEYS[1], id .. ':seq', 1)
        redis.call('SADD', KEYS[3], id)
        changed = changed + 1
      end
    end
  end
end
return changed
"""
)

# KEYS: viewers.  The viewers of a room watching now.
WATCHING = (
    _NOW
    + """
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now(), '+inf')
"""
)

# KEYS: dirty, batches, new batch name.
# Moves the dirty set to a batch of its own; returns the names of every unfinished batch.
CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[3])
  redis.call('SADD', KEYS[2], KEYS[3])
end
return redis.call('SMEMBERS', KEYS[2])
"""

# KEYS: counts, live, gen.  ARGV: prefix, then id, seq pairs just written to the database.
# Drops the counts of rooms no longer live that nothing changed since: the database holds them.
# The views HyperLogLog stays (it expires by itself): a room back live counts on from it.
DROP = """
local dropped = 0
for i = 2, #ARGV, 2 do
  local id, seq = ARGV[i], ARGV[i + 1]
  if redis.call('SISMEMBER', KEYS[2], id) == 0 and redis.call('HGET', KEYS[1], id .. ':seq') == seq then
    redis.call('HDEL', KEYS[1], id .. ':viewer_count', id .. ':like_count', id .. ':seq', id .. ':peak',
      id .. ':views', id .. ':vbase')
    redis.call('DEL', ARGV[1] .. 'viewers:' .. id)
    dropped = dropped + 1
  end
end
if dropped > 0 then redis.call('INCR', KEYS[3]) end
return dropped
"""
