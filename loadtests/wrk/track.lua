-- POST /track with random users, sessions and events; EVENTS per request
-- (1 sends a single movement, more send a batch). Every event has a unique
-- eventId, so the stored count can be compared with what was acknowledged.
--
-- WEB=1 sends what browsers on a public site send: page views (half the
-- events) with data as tracker.js builds it (path, title, referrer, host,
-- and utm on some landing pages), and each request with the User-Agent of one
-- of a few hundred browsers and, in X-Forwarded-For, one of a few thousand
-- public addresses (for a service started with TRACKER_TRUSTED_PROXIES=
-- 127.0.0.1). The tables are built from a fixed seed, so every thread and
-- every run, whatever code serves it, gets the same mix. HEADERS=0 sends the
-- same bodies without User-Agent and X-Forwarded-For: the request's visitor
-- is then unknown, which is what ingest costs without enrichment.
local events_per_request = tonumber(os.getenv("EVENTS") or "1")
local users = tonumber(os.getenv("USERS") or "100000")
local web = os.getenv("WEB") == "1"
local browser_headers = os.getenv("HEADERS") ~= "0"
local names = {"page_view", "click", "scroll", "signup"}
local web_names = {"page_view", "page_view", "page_view", "page_view", "page_view", "click",
                   "click", "click", "scroll", "scroll", "add_to_cart", "signup"}
local counter = 0
acknowledged = 0  -- global: done() reads it from each thread
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

-- Web mode's tables: browsers, addresses, pages, referrers (filled by init).
local agents, addresses, paths, referrers = {}, {}, {}, {}
local host = "www.example-shop.com"
local headers = {}

local function user_agents()
  local list = {}
  local function add(format, ...) list[#list + 1] = string.format(format, ...) end
  local webkit = "AppleWebKit/537.36 (KHTML, like Gecko)"
  for v = 131, 100, -1 do  -- newest first: the skewed draw favours them
    add("Mozilla/5.0 (Windows NT 10.0; Win64; x64) %s Chrome/%d.0.0.0 Safari/537.36", webkit, v)
    add("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) %s Chrome/%d.0.0.0 Safari/537.36", webkit, v)
    add("Mozilla/5.0 (X11; Linux x86_64) %s Chrome/%d.0.0.0 Safari/537.36", webkit, v)
    add("Mozilla/5.0 (Windows NT 10.0; Win64; x64) %s Chrome/%d.0.0.0 Safari/537.36 Edg/%d.0.0.0",
        webkit, v, v)
    for _, model in ipairs({"K", "Pixel 8", "SM-S918B"}) do
      add("Mozilla/5.0 (Linux; Android %d; %s) %s Chrome/%d.0.0.0 Mobile Safari/537.36",
          10 + v % 5, model, webkit, v)
    end
  end
  for v = 133, 100, -1 do
    add("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/%d.0", v, v)
    add("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:%d.0) Gecko/20100101 Firefox/%d.0", v, v)
    add("Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", v, v)
    add("Mozilla/5.0 (Android 14; Mobile; rv:%d.0) Gecko/%d.0 Firefox/%d.0", v, v, v)
  end
  local safari = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
  for major = 17, 15, -1 do
    for minor = 0, 7 do
      add("Mozilla/5.0 (iPhone; CPU iPhone OS %d_%d like Mac OS X) %s Version/%d.%d Mobile/15E148 Safari/604.1",
          major, minor, safari, major, minor)
      add("Mozilla/5.0 (iPad; CPU OS %d_%d like Mac OS X) %s Version/%d.%d Mobile/15E148 Safari/604.1",
          major, minor, safari, major, minor)
      add("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) %s Version/%d.%d Safari/605.1.15",
          safari, major, minor)
    end
  end
  for v = 20, 25 do
    add("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) %s SamsungBrowser/%d.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        webkit, v)
  end
  return list
end

local function public_addresses()
  -- First octets of blocks the registries assign to ISPs on every continent.
  local firsts = {3, 8, 13, 23, 24, 31, 41, 46, 50, 62, 64, 66, 68, 71, 73, 76, 77, 78, 81, 82,
                  84, 85, 86, 88, 89, 91, 92, 93, 94, 95, 98, 101, 103, 105, 106, 110, 112, 114,
                  116, 118, 120, 122, 124, 125, 151, 154, 177, 179, 181, 186, 187, 189, 190, 191,
                  196, 197, 200, 201, 212, 213, 217}
  local list = {}
  for i = 1, 3000 do
    list[i] = string.format("%d.%d.%d.%d", firsts[math.random(#firsts)], math.random(0, 255),
                            math.random(0, 255), math.random(1, 254))
  end
  local prefixes = {"2a02:810d", "2001:4860", "2600:1700", "2409:4040", "2a01:e0a", "2003:e6"}
  for i = 1, 300 do
    list[#list + 1] = string.format("%s:%x:%x::%x", prefixes[math.random(#prefixes)],
                                    math.random(0, 65535), math.random(0, 65535), math.random(1, 65535))
  end
  return list
end

local function web_tables()
  math.randomseed(1)  -- the same tables in every thread and run
  agents, addresses = user_agents(), public_addresses()
  paths = {"/", "/sale", "/pricing", "/products", "/blog", "/search", "/cart", "/account"}
  for _, topic in ipairs({"shoes", "boots", "jackets", "shirts", "dresses", "jeans", "bags", "hats"}) do
    paths[#paths + 1] = "/products/" .. topic
    paths[#paths + 1] = "/blog/2025/" .. topic .. "-guide"
    for n = 1, 30 do paths[#paths + 1] = string.format("/products/%s/%d", topic, n) end
  end
  referrers = {"", "", "", "", "https://www.google.com/", "https://www.google.com/",
               "https://www.google.de/", "https://www.google.co.uk/", "https://www.bing.com/",
               "https://duckduckgo.com/", "https://l.facebook.com/", "https://t.co/",
               "https://www.reddit.com/r/malefashionadvice/", "https://news.ycombinator.com/"}
  for i = 1, 200 do
    referrers[#referrers + 1] = string.format("https://blog%d.example.org/posts/%d", i, math.random(500))
  end
end

-- A skewed draw: the first entries of a list far more often than the last ones.
local function skewed(list)
  return list[math.floor(#list * math.random() ^ 3) + 1]
end

function init(args)
  thread_id = id
  if web then web_tables() end
  math.randomseed(os.time() * 1000 + thread_id)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function web_data(event)
  local path = skewed(paths)
  if event ~= "page_view" then
    return string.format('{"path":"%s","target":"a.nav"}', path)
  end
  local referrer, utm = skewed(referrers), ""
  if math.random() < 0.5 then
    referrer = "https://" .. host .. skewed(paths)  -- a later page of the visit
  elseif math.random() < 0.15 then
    utm = ',"utm":{"source":"google","medium":"cpc","campaign":"summer-sale"}'
  end
  return string.format('{"path":"%s","title":"Example Shop - %s","referrer":"%s","host":"%s"%s}',
                       path, path, referrer, host, utm)
end

local function movement(now)
  counter = counter + 1
  local user = math.random(users)
  local event, data
  if web then
    event = web_names[math.random(#web_names)]
    data = web_data(event)
  else
    event = names[math.random(#names)]
    data = string.format('{"path":"/p/%d"}', math.random(50))
  end
  return string.format(
    '{"userId":"user-%d","sessionId":"s-%d-%d","event":"%s","timestamp":%d,' ..
    '"data":%s,"eventId":"%d-%d-%d"}',
    user, user, math.floor(now / 1800000), event, now,
    data, thread_id, counter, math.random(1000000000))
end

-- The request's headers: wrk's own, or in web mode a browser's at a public address.
local function request_headers()
  if not web then
    return nil
  end
  headers["Content-Type"] = "application/json"
  if browser_headers then
    headers["User-Agent"] = skewed(agents)
    headers["X-Forwarded-For"] = addresses[math.random(#addresses)]
  end
  return headers
end

function request()
  local now = math.floor(os.time() * 1000)
  if events_per_request == 1 then
    return wrk.format(nil, "/track", request_headers(), movement(now))
  end
  local parts = {}
  for i = 1, events_per_request do
    parts[i] = movement(now)
  end
  return wrk.format(nil, "/track", request_headers(), '{"events":[' .. table.concat(parts, ",") .. ']}')
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
