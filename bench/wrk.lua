-- wrk script for bench/run.py. MODE selects the request:
--   token       POST the client credentials grant, rotating over APPS apps (bench-<i>/secret-<i>)
--   introspect  POST TOKEN to the introspection endpoint with the Basic credentials in AUTH
--   get         GET the URL as given (JWKS)
-- TOKEN_PATH overrides the token endpoint path (the peer serves /token). When done, prints one
-- line `RESULT {json}` with requests/s, latency percentiles and errors.
local mode = os.getenv("MODE") or "token"
local apps = tonumber(os.getenv("APPS") or "1")
local token_path = os.getenv("TOKEN_PATH") or "/oauth2/token"
local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local counter = 0
local token_head

function init(args)
  -- Each wrk thread has its own Lua state; start threads at different apps.
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  counter = math.random(0, apps - 1)
  -- The token request is built by one concatenation rather than wrk.format (a table of headers
  -- walked per request): wrk shares nothing with the server, but the less CPU it spends per
  -- request, the less its own delays show in the latencies it records.
  token_head = "POST " .. token_path .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] ..
    "\r\nContent-Type: " .. form["Content-Type"] .. "\r\nContent-Length: "
end

function request()
  if mode == "token" then
    local i = counter % apps
    counter = counter + 1
    local body = "grant_type=client_credentials&client_id=bench-" .. i .. "&client_secret=secret-" .. i
    return token_head .. #body .. "\r\n\r\n" .. body
  elseif mode == "introspect" then
    local headers = { ["Content-Type"] = form["Content-Type"], ["Authorization"] = "Basic " .. os.getenv("AUTH") }
    return wrk.format("POST", "/oauth2/introspect", headers, "token=" .. os.getenv("TOKEN"))
  else
    return wrk.format("GET")
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  -- The latency distribution as 1,000 evenly spaced quantiles, so that bench/run.py can pool
  -- the distributions of consecutive runs by request count (percentiles do not average).
  local quantiles = {}
  for i = 1, 1000 do
    quantiles[i] = string.format("%d", latency:percentile((i - 0.5) / 10))
  end
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"non_2xx":%d,"socket_errors":%d,"quantiles_us":[%s]}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    table.concat(quantiles, ",")))
end
