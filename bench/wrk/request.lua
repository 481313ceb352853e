-- wrk script for every yardstick: the request comes from the environment, the result is one
-- key=value line (latencies in microseconds) that bench/run.sh reads.
--   BENCH_WRK_METHOD (GET), BENCH_WRK_BODY (none), BENCH_WRK_TYPE (Content-Type, with a body)
wrk.method = os.getenv("BENCH_WRK_METHOD") or "GET"
local body = os.getenv("BENCH_WRK_BODY")
if body and body ~= "" then
  wrk.body = body:gsub("\\n", "\n")
  wrk.headers["Content-Type"] = os.getenv("BENCH_WRK_TYPE") or "application/json"
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "requests=%d seconds=%.3f req_per_s=%.1f p50_us=%d p99_us=%d max_us=%d non2xx=%d errors=%d\n",
    summary.requests, secs, summary.requests / secs, latency:percentile(50),
    latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
