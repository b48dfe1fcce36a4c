-- Copied from /work/shared/peers/harness/wrk.lua (the peer harness) and extended for W5 only: the GET, bearer-GET
-- and POST-each-body-once modes are unchanged, so W1-W4 are driven exactly as in the peer harness.
--
-- wrk script for all workloads. Mode is chosen by environment:
--   BODIES_FILE=path   POST each line of the file once (form-urlencoded), lines split across threads;
--                      a thread stops when its lines are used up (no request is ever repeated)
--   TOKENS_FILE=path   GET with "Authorization: Bearer <token>", tokens used round-robin
--   URLS_FILE=path     (W5, added) GET each line round-robin: a path with its query, a tab, and the Cookie header
--                      to send with it (one signed-in browser per line); with REDIRECT_OK=1 a 3xx response whose
--                      Location contains "code=" counts as success and anything else (2xx included) as a failure:
--                      single sign-on must answer with the code
--   neither            plain GET of the URL
-- Counts non-2xx responses (failures, in REDIRECT_OK mode) and prints one line "WRK_JSON {...}" from done().
-- Throughput is responses / (last response - first request), so that a run which ends early
-- because its bodies ran out is still measured over the time it actually ran.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } wrk_timespec;
  int clock_gettime(int clk_id, wrk_timespec *tp);
]]
local ts = ffi.new("wrk_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local bodies_file = os.getenv("BODIES_FILE")
local tokens_file = os.getenv("TOKENS_FILE")
local urls_file = os.getenv("URLS_FILE")
local redirect_ok = os.getenv("REDIRECT_OK") == "1"

local function read_lines(path)
  local out = {}
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    if #line > 0 then out[#out + 1] = line end
  end
  f:close()
  return out
end

-- setup phase (main Lua state) ---------------------------------------------------------------
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_id", #threads)
end

-- running phase (one Lua state per thread; globals read back by done() via thread:get) -------
local requests, reserved, sent, calls = {}, 0, 0, 0
responses, non2xx, t_first, t_last, exhausted = 0, 0, 0, 0, 0

function init(args)
  -- setup() of thread k runs after thread k-1 has started, so the thread count comes from the env
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "")
  assert(nthreads or not bodies_file, "set WRK_THREADS to wrk's -t value")
  if bodies_file then
    local headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Accept"] = "application/json" }
    local i = 0
    for _, body in ipairs(read_lines(bodies_file)) do
      if i % nthreads == thread_id - 1 then
        requests[#requests + 1] = wrk.format("POST", wrk.path, headers, body)
      end
      i = i + 1
    end
  elseif tokens_file then
    for _, token in ipairs(read_lines(tokens_file)) do
      requests[#requests + 1] = wrk.format("GET", wrk.path, { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json" })
    end
  elseif urls_file then
    for _, line in ipairs(read_lines(urls_file)) do
      local path, cookie = string.match(line, "^([^\t]+)\t?(.*)$")
      local headers = { ["Accept"] = "text/html,application/json" }
      if cookie and #cookie > 0 then headers["Cookie"] = cookie end
      requests[#requests + 1] = wrk.format("GET", path, headers)
    end
  else
    requests[1] = wrk.format("GET", wrk.path, { ["Accept"] = "application/json" })
  end
  budget = bodies_file and #requests or nil
end

if bodies_file then
  -- called before each request: hold a connection back (for an hour) once every body is taken,
  -- so that request() never has to repeat one
  function delay()
    if reserved < budget then
      reserved = reserved + 1
      return 0
    end
    exhausted = 1
    if responses >= budget then wrk.thread:stop() end
    return 3600000
  end
end

-- Note: wrk calls request() once on thread 1 before any thread starts, only to parse the result
-- (script_verify_request); that call must neither use up a body nor start the clock.
function request()
  if bodies_file then
    if reserved == 0 then return requests[1] end -- the probe: every real request follows delay()
    if t_first == 0 then t_first = now_us() end
    sent = sent + 1
    return requests[sent]
  end
  calls = calls + 1
  if thread_id == 1 and calls == 1 then return requests[1] end -- the probe
  if t_first == 0 then t_first = now_us() end
  return requests[(calls - 1) % #requests + 1]
end

-- W5: a 3xx whose Location (any letter case) carries an authorization code
local function code_redirect(status, headers)
  if status < 300 or status > 399 then return false end
  for name, value in pairs(headers) do
    if string.lower(name) == "location" then return string.find(value, "code=", 1, true) ~= nil end
  end
  return false
end

function response(status, headers, body)
  responses = responses + 1
  t_last = now_us()
  local ok
  if redirect_ok then ok = code_redirect(status, headers) else ok = status >= 200 and status <= 299 end
  if not ok then
    non2xx = non2xx + 1
    if non2xx <= 3 then io.stderr:write("non-2xx " .. status .. ": " .. string.sub(body or "", 1, 200) .. "\n") end
  end
  if budget and responses >= budget then wrk.thread:stop() end
end

-- done phase (main Lua state) -----------------------------------------------------------------
function done(summary, latency, reqs)
  local first, last, n, bad, ex, offered = math.huge, 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    local tf, tl = t:get("t_first"), t:get("t_last")
    if tf > 0 and tf < first then first = tf end
    if tl > last then last = tl end
    n = n + t:get("responses")
    bad = bad + t:get("non2xx")
    ex = ex + t:get("exhausted")
    offered = offered + (t:get("budget") or 0)
  end
  local window = (last > first) and (last - first) / 1e6 or 0
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"window_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"non2xx":%d,"socket_errors":%d,"timeouts":%d,"bodies_exhausted":%s,"bodies_offered":%d}\n',
    n, window, window > 0 and n / window or 0,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    bad, e.connect + e.read + e.write, e.timeout, ex > 0 and "true" or "false", offered))
end
