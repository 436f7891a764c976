-- report.lua - wrk script for test/bench/bench.py.
--
--   wrk -t2 -c32 -d10s -s test/bench/report.lua URL
--
-- Counts non-2xx responses per thread (wrk's own summary counts only
-- status >= 400) and, when wrk is done, prints ONE line
--
--   BENCH_JSON {"requests":...,"duration_us":...,"rps":...,"p50_us":...,...}
--
-- that bench.py picks out of wrk's output.  Latencies are in microseconds.
--
-- With a script argument (`wrk ... URL -- N`) each thread stops after N
-- responses and prints BENCH_THREAD_DONE: a fixed request count (the
-- memory check); bench.py then interrupts wrk (SIGINT), which reports as
-- usual.  The duration is then only a limit.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   non2xx = 0
   statuses = {}
   quota = tonumber(args[1] or "")
   seen = 0
end

function response(status, headers, body)
   if quota then
      seen = seen + 1
      if seen == quota then
         -- wrk's main thread sleeps for the whole duration even when every
         -- thread stopped: bench.py sends SIGINT after one line per thread.
         io.write("BENCH_THREAD_DONE\n")
         io.flush()
         wrk.thread:stop()
      end
   end
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      statuses[status] = (statuses[status] or 0) + 1
   end
end

local function num(x)
   -- integral values without exponent/decimals; others with 3 decimals
   if x == math.floor(x) and math.abs(x) < 1e15 then
      return string.format("%d", x)
   end
   return string.format("%.3f", x)
end

function done(summary, latency, requests)
   local non2xx_total = 0
   local by_status = {}
   for _, t in ipairs(threads) do
      non2xx_total = non2xx_total + (t:get("non2xx") or 0)
      local st = t:get("statuses")
      if st then
         for k, v in pairs(st) do
            by_status[k] = (by_status[k] or 0) + v
         end
      end
   end
   local e = summary.errors
   local socket_errors = e.connect + e.read + e.write + e.timeout
   local secs = summary.duration / 1e6
   local parts = {
      '"requests":' .. num(summary.requests),
      '"duration_us":' .. num(summary.duration),
      '"bytes":' .. num(summary.bytes),
      '"rps":' .. num(secs > 0 and summary.requests / secs or 0),
      '"non2xx":' .. num(non2xx_total),
      '"err_connect":' .. num(e.connect),
      '"err_read":' .. num(e.read),
      '"err_write":' .. num(e.write),
      '"err_timeout":' .. num(e.timeout),
      '"err_status":' .. num(e.status),
      '"errors":' .. num(non2xx_total + socket_errors),
      '"lat_mean_us":' .. num(latency.mean),
      '"lat_stdev_us":' .. num(latency.stdev),
      '"lat_min_us":' .. num(latency.min),
      '"lat_max_us":' .. num(latency.max),
      '"p50_us":' .. num(latency:percentile(50)),
      '"p90_us":' .. num(latency:percentile(90)),
      '"p99_us":' .. num(latency:percentile(99)),
      '"p999_us":' .. num(latency:percentile(99.9)),
   }
   local st = {}
   for k, v in pairs(by_status) do
      table.insert(st, '"' .. tostring(k) .. '":' .. num(v))
   end
   table.insert(parts, '"non2xx_by_status":{' .. table.concat(st, ",") .. '}')
   io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
