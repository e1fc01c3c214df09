"""Redis Lua scripts of the counters (see `rooms.counters` for the keys they work on).

Each runs atomically inside Redis, which is what makes a change, a load or a claim one step.
"""

# Set a room's counts unless Redis holds them already at the same or a newer seq.
_PUT = """
local function put(counts, id, viewers, likes, seq)
  local held = redis.call('HGET', counts, id .. ':seq')
  if held == false or tonumber(held) < tonumber(seq) then
    redis.call('HSET', counts, id .. ':viewer_count', viewers, id .. ':like_count', likes, id .. ':seq', seq)
  end
end
"""

# KEYS: counts, live, ready, dirty, throttle, changes channel.  ARGV: id, field, amount, limit
# ('' = none), window. Publishes the room's counts on the changes channel (the real-time events).
# Returns {count}, {-3, seconds to wait}, {-2} (live set unknown) or {-1} (not in the live set).
CHANGE = """
local id, limit = ARGV[1], tonumber(ARGV[4])
if limit then
  local used = redis.call('INCR', KEYS[5])
  if used == 1 then redis.call('EXPIRE', KEYS[5], ARGV[5]) end
  if used > limit then return {-3, redis.call('TTL', KEYS[5])} end
end
if redis.call('EXISTS', KEYS[3]) == 0 then return {-2} end
local seq = id .. ':seq'
if redis.call('SISMEMBER', KEYS[2], id) == 0 or redis.call('HEXISTS', KEYS[1], seq) == 0 then return {-1} end
local field = id .. ':' .. ARGV[2]
local value = redis.call('HINCRBY', KEYS[1], field, ARGV[3])
if value < 0 then
  value = 0
  redis.call('HSET', KEYS[1], field, 0)
end
redis.call('HINCRBY', KEYS[1], seq, 1)
redis.call('SADD', KEYS[4], id)
local counts = redis.call('HMGET', KEYS[1], id .. ':viewer_count', id .. ':like_count')
redis.call('PUBLISH', KEYS[6], '{"id":' .. id .. ',"viewer_count":' .. counts[1] .. ',"like_count":' .. counts[2] .. '}')
return {value}
"""

# KEYS: counts, live, gen.  ARGV: gen as read before the database, id, viewers, likes, seq.
LOAD = (
    _PUT
    + """
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[1] then return 0 end
put(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
"""
)

# KEYS: counts, live, ready, dirty, gen, scratch set.  ARGV: gen, ready ttl, then id, viewers, likes, seq ...
SYNC = (
    _PUT
    + """
if (redis.call('GET', KEYS[5]) or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[6])
for i = 3, #ARGV, 4 do
  put(KEYS[1], ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
  redis.call('SADD', KEYS[6], ARGV[i])
end
for _, id in ipairs(redis.call('SDIFF', KEYS[2], KEYS[6])) do
  redis.call('SADD', KEYS[4], id)
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

# KEYS: dirty, batches, new batch name.
# Moves the dirty set to a batch of its own; returns the names of every unfinished batch.
CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[3])
  redis.call('SADD', KEYS[2], KEYS[3])
end
return redis.call('SMEMBERS', KEYS[2])
"""

# KEYS: counts, live, gen.  ARGV: id, seq pairs just written to the database.
# Drops the counts of rooms no longer live that nothing changed since: the database holds them.
DROP = """
local dropped = 0
for i = 1, #ARGV, 2 do
  local id, seq = ARGV[i], ARGV[i + 1]
  if redis.call('SISMEMBER', KEYS[2], id) == 0 and redis.call('HGET', KEYS[1], id .. ':seq') == seq then
    redis.call('HDEL', KEYS[1], id .. ':viewer_count', id .. ':like_count', id .. ':seq')
    dropped = dropped + 1
  end
end
if dropped > 0 then redis.call('INCR', KEYS[3]) end
return dropped
"""
