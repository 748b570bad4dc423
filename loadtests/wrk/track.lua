-- POST /track with random users, sessions and events; EVENTS per request
-- (1 sends a single movement, more send a batch). Every event has a unique
-- eventId, so the stored count can be compared with what was acknowledged.
local events_per_request = tonumber(os.getenv("EVENTS") or "1")
local users = tonumber(os.getenv("USERS") or "100000")
local names = {"page_view", "click", "scroll", "signup"}
local counter = 0
acknowledged = 0  -- global: done() reads it from each thread
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = id
  math.randomseed(os.time() * 1000 + thread_id)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function movement(now)
  counter = counter + 1
  local user = math.random(users)
  return string.format(
    '{"userId":"user-%d","sessionId":"s-%d-%d","event":"%s","timestamp":%d,' ..
    '"data":{"path":"/p/%d"},"eventId":"%d-%d-%d"}',
    user, user, math.floor(now / 1800000), names[math.random(#names)], now,
    math.random(50), thread_id, counter, math.random(1000000000))
end

function request()
  local now = math.floor(os.time() * 1000)
  if events_per_request == 1 then
    return wrk.format(nil, "/track", nil, movement(now))
  end
  local parts = {}
  for i = 1, events_per_request do
    parts[i] = movement(now)
  end
  return wrk.format(nil, "/track", nil, '{"events":[' .. table.concat(parts, ",") .. ']}')
end

-- A request answered 503 makes its connection wait Retry-After (1 s) before
-- sending again, as the JavaScript client does, instead of hammering a
-- service that said it is overloaded.
local backoffs = 0

function response(status, headers, body)
  if status == 200 then
    acknowledged = acknowledged + events_per_request
  elseif status == 503 then
    backoffs = backoffs + 1
  end
end

function delay()
  if backoffs > 0 then
    backoffs = backoffs - 1
    return 1000
  end
  return 0
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("acknowledged")
  end
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"non2xx":%d,"socket_errors":%d,' ..
    '"acknowledged":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    total, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
