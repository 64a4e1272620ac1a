-- wrk script of the benchmark: GET a random path of the file named by WRK_PATHS,
-- and print the summary as one JSON line (bench/http_bench.py reads it).
local paths = {}

init = function(args)
  local f = assert(io.open(os.getenv("WRK_PATHS"), "r"))
  for line in f:lines() do
    if #line > 0 then paths[#paths + 1] = line end
  end
  f:close()
  math.randomseed(os.time() + tonumber(string.sub(tostring({}), 8), 16))
end

request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
