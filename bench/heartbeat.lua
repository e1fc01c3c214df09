-- wrk script: heartbeats of the viewers whose tokens BENCH_TOKENS lists (one a line), in turn.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  tokens[#tokens + 1] = line
end
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  n = n % #tokens + 1
  return wrk.format(nil, nil, nil, '{"viewer_token":"' .. tokens[n] .. '"}')
end
