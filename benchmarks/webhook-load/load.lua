-- wrk script: POSTs signed Stripe webhooks, each a new event. Every thread rebuilds each body from the
-- template's three parts and one pre-signed "<id> <Stripe-Signature>" line; thread k of n sends lines
-- first+k, first+k+n, ... so no two requests of a run share an event id (past the last line, it wraps,
-- and run.sh's check against the server's count shows it).
-- usage: wrk -tTHREADS ... -s load.lua -- DIR FIRST COUNT THREADS
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

local function read(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

function init(args)
  local dir, first, count, nthreads = args[1], tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  part1, part2, part3 = read(dir .. "/part1"), read(dir .. "/part2"), read(dir .. "/part3")
  ids, headers = {}, {}
  local n, line_number = 0, 0
  for line in io.lines(dir .. "/signatures") do
    if line_number >= first and line_number < first + count and (line_number - first) % nthreads == index then
      n = n + 1
      ids[n] = line:sub(1, 12)
      headers[n] = line:sub(14)
    end
    line_number = line_number + 1
  end
  total, next_one = n, 1
  wrk.method = "POST"
  wrk.path = "/webhook"
end

function request()
  local i = next_one
  next_one = next_one % total + 1
  local id = ids[i]
  return wrk.format(nil, nil, {["Content-Type"] = "application/json; charset=utf-8", ["Stripe-Signature"] = headers[i]},
    part1 .. id .. part2 .. id .. part3)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
